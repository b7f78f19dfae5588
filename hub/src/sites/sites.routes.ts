import {
  ErrorResponseSchema,
  SiteInputSchema,
  SiteParamsSchema,
  SitePatchSchema,
  SiteSchema,
  SitesResponseSchema,
} from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ALL_ROLES } from '../auth/access.js';
import { auditActor, siteScope } from '../auth/request-auth.js';
import type { Services } from '../container.js';

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};

/** The sites registry: everyone reads the sites they may see (names for every view); admins register and edit. */
const sitesRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'sites'>> = async (app, { sites }) => {
  app.get(
    '/sites',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['sites'],
        summary: 'Every site the user may see: registered ones and ones only heard from, with camera counts',
        response: { 200: SitesResponseSchema, ...errors },
      },
    },
    async (req) => ({ items: await sites.list(siteScope(req)) }),
  );

  app.get(
    '/sites/:site',
    {
      config: { access: { roles: ALL_ROLES, siteParam: 'site' } },
      schema: {
        tags: ['sites'],
        summary: 'One site',
        params: SiteParamsSchema,
        response: { 200: SiteSchema, ...errors },
      },
    },
    async (req) => sites.get(req.params.site, siteScope(req)),
  );

  app.post(
    '/sites',
    {
      config: { access: { roles: ['admin'] }, audited: true },
      schema: {
        tags: ['sites'],
        summary: 'Registers a site (a participating unit) under the id its agent uses',
        body: SiteInputSchema,
        response: { 201: SiteSchema, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await sites.create(req.body, siteScope(req), auditActor(req))),
  );

  app.patch(
    '/sites/:site',
    {
      config: { access: { roles: ['admin'], siteParam: 'site' }, audited: true },
      schema: {
        tags: ['sites'],
        summary: "Changes a registered site's fields; `active: false` when a unit leaves (its history stays)",
        params: SiteParamsSchema,
        body: SitePatchSchema,
        response: { 200: SiteSchema, ...errors },
      },
    },
    async (req) => sites.update(req.params.site, req.body, siteScope(req), auditActor(req)),
  );
};
export default sitesRoutes;
