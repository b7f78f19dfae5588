import {
  AdoptCameraInputSchema,
  CameraPatchSchema,
  ErrorResponseSchema,
  RegistryCameraSchema,
  SiteCameraParamsSchema,
  SiteCamerasSchema,
  SiteParamsSchema,
} from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Role } from '../auth/access.js';
import { auditActor } from '../auth/request-auth.js';
import type { Services } from '../container.js';

/** Who runs the network's cameras: admins and technicians (technicians install them). */
const CAMERA_MANAGERS: readonly Role[] = ['admin', 'technician'];

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};

/** A site's cameras registry: names and places, discovered cameras, adoption, disabling, removal. */
const registryRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'registry'>> = async (app, { registry }) => {
  app.get(
    '/sites/:site/cameras',
    {
      config: { access: { roles: CAMERA_MANAGERS, siteParam: 'site' } },
      schema: {
        tags: ['cameras'],
        summary:
          "A site's cameras (names, places, adoption, what its agent runs) and the cameras its agent discovered " +
          'that nobody adopted. Passwords are never returned, only whether one is set',
        params: SiteParamsSchema,
        response: { 200: SiteCamerasSchema, ...errors },
      },
    },
    async (req) => registry.list(req.params.site),
  );

  app.post(
    '/sites/:site/cameras',
    {
      config: { access: { roles: CAMERA_MANAGERS, siteParam: 'site' }, audited: true },
      schema: {
        tags: ['cameras'],
        summary:
          "Adopts a camera into the site's agent (credentials entered once, sealed at rest); the agent starts it " +
          'without a restart',
        params: SiteParamsSchema,
        body: AdoptCameraInputSchema,
        response: { 201: RegistryCameraSchema, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await registry.adopt(req.params.site, req.body, auditActor(req))),
  );

  app.patch(
    '/sites/:site/cameras/:camera',
    {
      config: { access: { roles: CAMERA_MANAGERS, siteParam: 'site' }, audited: true },
      schema: {
        tags: ['cameras'],
        summary:
          "Renames, places, disables or enables a camera; an adopted camera's connection and password can change too",
        params: SiteCameraParamsSchema,
        body: CameraPatchSchema,
        response: { 200: RegistryCameraSchema, ...errors },
      },
    },
    async (req) => registry.update(req.params.site, req.params.camera, req.body, auditActor(req)),
  );

  app.delete(
    '/sites/:site/cameras/:camera',
    {
      config: { access: { roles: CAMERA_MANAGERS, siteParam: 'site' }, audited: true },
      schema: {
        tags: ['cameras'],
        summary: 'Removes an adopted camera: its agent stops it; its stored events stay',
        params: SiteCameraParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await registry.remove(req.params.site, req.params.camera, auditActor(req));
      return reply.code(204).send(null);
    },
  );
};
export default registryRoutes;
