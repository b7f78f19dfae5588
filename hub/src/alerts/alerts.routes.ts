import {
  AlertAssignBodySchema,
  AlertCommentBodySchema,
  AlertDetailSchema,
  AlertIdParamsSchema,
  AlertNoteBodySchema,
  AlertSchema,
  AlertsPageSchema,
  AlertsQuerySchema,
  ErrorResponseSchema,
} from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { actorOf, sitesOf } from './actor.js';
import type { Role } from '../auth/access.js';
import { auditActor } from '../auth/request-auth.js';
import { NotFoundError } from '../errors.js';
import type { Services } from '../container.js';

const READERS: readonly Role[] = ['admin', 'operator', 'police'];
const HANDLERS: readonly Role[] = ['admin', 'operator'];
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };
const changeErrors = { ...errors, 409: ErrorResponseSchema };

const alertsRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'alerts' | 'audit'>> = async (app, deps) => {
  const svc = () => deps.alerts;

  /** Users limited to some sites see other sites' alerts as missing. */
  async function visible(req: FastifyRequest, id: string) {
    const sites = sitesOf(req);
    if (!sites) return;
    const alert = await svc().get(id);
    if (!sites.includes(alert.site)) throw new NotFoundError('alert');
  }

  app.get(
    '/alerts',
    {
      config: { access: { roles: READERS, siteQuery: 'site' } },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first, filtered by status, severity, site, camera and when they opened',
        querystring: AlertsQuerySchema,
        response: { 200: AlertsPageSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => svc().list(req.query, { sites: sitesOf(req) }),
  );

  app.get(
    '/alerts/:id',
    {
      config: { access: { roles: READERS } },
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its events (newest first) and its full history',
        params: AlertIdParamsSchema,
        response: { 200: AlertDetailSchema, ...errors },
      },
    },
    async (req) => {
      const alert = await svc().get(req.params.id);
      const sites = sitesOf(req);
      if (sites && !sites.includes(alert.site)) throw new NotFoundError('alert');
      // An alert comes with its events (who was where): a sensitive read, recorded before it is answered.
      await deps.audit.record(auditActor(req), {
        action: 'alert.view',
        target: alert.id,
        detail: { site: alert.site, camera: alert.camera, events: alert.events.length },
      });
      return alert;
    },
  );

  const change = (summary: string) => ({
    config: { access: { roles: HANDLERS } },
    schema: {
      tags: ['alerts'],
      summary,
      params: AlertIdParamsSchema,
      body: AlertNoteBodySchema,
      response: { 200: AlertSchema, ...changeErrors },
    },
  });

  app.post('/alerts/:id/ack', change('Acknowledge an open alert (409 if acknowledged or resolved)'), async (req) => {
    await visible(req, req.params.id);
    return svc().acknowledge(req.params.id, actorOf(req), req.body?.note);
  });

  app.post('/alerts/:id/resolve', change('Resolve an alert (409 if already resolved)'), async (req) => {
    await visible(req, req.params.id);
    return svc().resolve(req.params.id, actorOf(req), req.body?.note);
  });

  app.post(
    '/alerts/:id/false-alarm',
    change('Resolve an alert as a false alarm (409 if already resolved)'),
    async (req) => {
      await visible(req, req.params.id);
      return svc().resolve(req.params.id, actorOf(req), req.body?.note, true);
    },
  );

  app.post(
    '/alerts/:id/assign',
    {
      config: { access: { roles: HANDLERS } },
      schema: {
        tags: ['alerts'],
        summary: 'Assign an unresolved alert to a person (null unassigns)',
        params: AlertIdParamsSchema,
        body: AlertAssignBodySchema,
        response: { 200: AlertSchema, ...changeErrors },
      },
    },
    async (req) => {
      await visible(req, req.params.id);
      return svc().assign(req.params.id, actorOf(req), req.body.assignee, req.body.note);
    },
  );

  app.post(
    '/alerts/:id/comments',
    {
      config: { access: { roles: HANDLERS } },
      schema: {
        tags: ['alerts'],
        summary: 'Add a comment to an alert (kept in its history)',
        params: AlertIdParamsSchema,
        body: AlertCommentBodySchema,
        response: { 200: AlertSchema, ...errors },
      },
    },
    async (req) => {
      await visible(req, req.params.id);
      return svc().comment(req.params.id, actorOf(req), req.body.note);
    },
  );
};
export default alertsRoutes;
