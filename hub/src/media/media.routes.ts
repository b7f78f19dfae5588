import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BadRequestError, UnauthorizedError } from '../errors.js';
import type { MediaService } from './media.service.js';
import { contentUploadSchema } from './upload.schema.js';

/**
 * Edge agents upload snapshots here with their site's token (never a user's password; see auth/auth.plugin.ts),
 * held to their site's rate and daily quota (media.service.ts).
 */
const mediaRoutes: FastifyPluginAsyncTypebox<{ media: MediaService }> = async (app, deps) => {
  const siteOf = (req: { agent?: { site: string } }) => {
    // The access hook (roles: 'agent') lets no request through without it; this only narrows the type.
    if (!req.agent) throw new UnauthorizedError('site token required');
    return req.agent.site;
  };

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
      // The rate counts attempts before the body is read: a flood costs a Redis round trip each, not 5 MiB.
      onRequest: async (req) => deps.media.checkRate(siteOf(req), 'snapshot'),
      schema: contentUploadSchema('Upload a snapshot JPEG under its sha256 reference (idempotent; agent token)'),
    },
    async (req, reply) => {
      const site = siteOf(req);
      req.log.debug({ site }, 'snapshot upload');
      const body = req.body as Buffer | undefined;
      if (!Buffer.isBuffer(body)) throw new BadRequestError('invalid_body', 'send the JPEG as image/jpeg');
      const { created } = await deps.media.putSnapshot(site, req.params.ref, body);
      return reply.code(created ? 201 : 200).send({ ref: req.params.ref, created });
    },
  );
};
export default mediaRoutes;
