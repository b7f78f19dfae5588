import { ErrorResponseSchema, ReportQuerySchema, ReportSchema } from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Role } from '../auth/access.js';
import type { Services } from '../container.js';
import { reportCsv } from './reports.service.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema };

/** The steering committee reviews figures with the commune police; admins prepare them. Aggregates, no footage. */
const REPORT_READERS: readonly Role[] = ['admin', 'police', 'operator'];

/** The sites asked for, limited to the user's own (a site-limited user never sees figures of other sites). */
function scopedSites(req: FastifyRequest, asked: string | string[] | undefined): string[] | null {
  const wanted = asked === undefined ? null : Array.isArray(asked) ? asked : [asked];
  const own = req.user?.sites ?? null;
  if (!own) return wanted;
  return wanted ? wanted.filter((s) => own.includes(s)) : own;
}

const reportsRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'reports'>> = async (app, { reports }) => {
  app.get(
    '/reports/summary',
    {
      config: { access: { roles: REPORT_READERS } },
      schema: {
        tags: ['reports'],
        summary: "The committee's report for a period: events, alerts and their handling, camera uptime",
        querystring: ReportQuerySchema,
        response: { 200: ReportSchema, ...errors },
      },
    },
    async (req) => reports.summary({ from: req.query.from, to: req.query.to, sites: scopedSites(req, req.query.site) }),
  );

  app.get(
    '/reports/summary.csv',
    {
      config: { access: { roles: REPORT_READERS } },
      schema: {
        tags: ['reports'],
        summary: 'The same report as CSV (section, site, camera, key, value)',
        querystring: ReportQuerySchema,
        response: { 200: Type.String(), ...errors },
      },
    },
    async (req, reply) => {
      const report = await reports.summary({
        from: req.query.from,
        to: req.query.to,
        sites: scopedSites(req, req.query.site),
      });
      const name = `camhub-report-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(`\uFEFF${reportCsv(report)}`);
    },
  );
};
export default reportsRoutes;
