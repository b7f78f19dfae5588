import { ErrorResponseSchema } from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SNAPSHOT_REF_PATTERN } from './snapshot-store.js';
import type { SnapshotStore } from './snapshot-store.js';

/** Edge agents upload snapshots here with their site's token (never a user's password; see auth/auth.plugin.ts). */
const mediaRoutes: FastifyPluginAsyncTypebox<{ snapshots: SnapshotStore }> = async (app, deps) => {
  app.addContentTypeParser(
    ['image/jpeg', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: app.config.SNAPSHOT_MAX_BYTES },
    (_req, body, done) => done(null, body),
  );

  app.put(
    '/media/:ref',
    {
      bodyLimit: app.config.SNAPSHOT_MAX_BYTES,
      config: { access: { roles: 'agent' } },
      schema: {
        tags: ['media'],
        summary: 'Upload a snapshot JPEG under its sha256 reference (idempotent; agent token)',
        params: Type.Object({ ref: Type.String({ pattern: SNAPSHOT_REF_PATTERN }) }),
        response: {
          200: Type.Object({ ref: Type.String(), created: Type.Boolean() }),
          201: Type.Object({ ref: Type.String(), created: Type.Boolean() }),
          400: ErrorResponseSchema,
          401: ErrorResponseSchema,
          413: ErrorResponseSchema,
          507: ErrorResponseSchema,
        },
      },
    },
    async (req, reply) => {
      // The access hook has checked the site's upload token (roles: 'agent') and set req.agent.
      req.log.debug({ site: req.agent?.site }, 'snapshot upload');
      const body = req.body as Buffer | undefined;
      if (!Buffer.isBuffer(body)) {
        return reply.code(400).send({ error: { code: 'invalid_body', message: 'send the JPEG as image/jpeg' } });
      }
      const { created } = await deps.snapshots.put(req.params.ref, body);
      return reply.code(created ? 201 : 200).send({ ref: req.params.ref, created });
    },
  );
};
export default mediaRoutes;
