import {
  CameraClipsPageSchema,
  CameraClipsQuerySchema,
  CameraIdSchema,
  ErrorResponseSchema,
  EventIdParamsSchema,
  SiteIdSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENT_READERS } from '../auth/access.js';
import { auditActor } from '../auth/request-auth.js';
import { BadRequestError, UnauthorizedError } from '../errors.js';
import { contentUploadSchema } from '../media/upload.schema.js';
import { type ClipsService, RangeNotSatisfiableError } from './clips.service.js';

const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };

/**
 * Event clips: agents upload them with their site's token; people who may read events play them (HTTP Range, so a
 * `<video>` element seeks without downloading the whole file) and list a camera's recent ones.
 */
const clipsRoutes: FastifyPluginAsyncTypebox<{
  clips: ClipsService;
  maxBytes: number;
  /** Counts an upload attempt of the site against its clip rate (throws past it: 429). */
  checkRate: (site: string) => Promise<void>;
}> = async (app, deps) => {
  const siteOf = (req: { agent?: { site: string } }) => {
    // The access hook (roles: 'agent') lets no request through without it; this only narrows the type.
    if (!req.agent) throw new UnauthorizedError('site token required');
    return req.agent.site;
  };

  app.addContentTypeParser('video/mp4', { parseAs: 'buffer', bodyLimit: deps.maxBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.put(
    '/clips/:ref',
    {
      bodyLimit: deps.maxBytes,
      config: { access: { roles: 'agent' } },
      // The rate counts attempts before the body is read, as for snapshots (media.routes.ts).
      onRequest: async (req) => deps.checkRate(siteOf(req)),
      schema: contentUploadSchema(
        "Upload an event clip (MP4) under its sha256 reference (idempotent; agent token; the site's quotas)",
      ),
    },
    async (req, reply) => {
      const body = req.body as Buffer | undefined;
      if (!Buffer.isBuffer(body)) throw new BadRequestError('invalid_body', 'send the clip as video/mp4');
      const { created } = await deps.clips.upload(siteOf(req), req.params.ref, body);
      return reply.code(created ? 201 : 200).send({ ref: req.params.ref, created });
    },
  );

  app.get(
    '/events/:id/clip',
    {
      config: { access: { roles: EVENT_READERS } },
      schema: {
        tags: ['events'],
        summary: "The event's clip (MP4, faststart); honours a single-range Range header (206)",
        params: EventIdParamsSchema,
        response: {
          200: Type.Unsafe<Buffer | NodeJS.ReadableStream>({ type: 'string', format: 'binary' }),
          206: Type.Unsafe<Buffer | NodeJS.ReadableStream>({ type: 'string', format: 'binary' }),
          416: ErrorResponseSchema,
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const sites = req.user?.sites;
      const clip = await deps.clips
        .open(
          req.params.id,
          req.headers.range,
          auditActor(req),
          req.user?.sessionId ?? null,
          (site) => !sites || sites.includes(site),
        )
        .catch((err: unknown) => {
          // RFC 9110: a 416 says how long the file is, so the player can ask again.
          if (err instanceof RangeNotSatisfiableError) reply.header('content-range', `bytes */${err.size}`);
          throw err;
        });
      // Never cached: every request, each seek included, reaches the hub (and a new view its trail).
      reply.header('content-type', 'video/mp4').header('accept-ranges', 'bytes').header('cache-control', 'no-store');
      if (!clip.range) return reply.header('content-length', clip.size).send(clip.stream);
      const { start, end } = clip.range;
      return reply
        .code(206)
        .header('content-range', `bytes ${start}-${end}/${clip.size}`)
        .header('content-length', end - start + 1)
        .send(clip.stream);
    },
  );

  app.get(
    '/cameras/:site/:camera/clips',
    {
      config: { access: { roles: EVENT_READERS, siteParam: 'site' } },
      schema: {
        tags: ['cameras'],
        summary: "A camera's clips, newest first: the last 24 h unless from/to say otherwise",
        params: Type.Object({ site: SiteIdSchema, camera: CameraIdSchema }),
        querystring: CameraClipsQuerySchema,
        response: { 200: CameraClipsPageSchema, ...errors },
      },
    },
    async (req) => {
      const items = await deps.clips.forCamera(req.params.site, req.params.camera, req.query, auditActor(req));
      return { items };
    },
  );
};
export default clipsRoutes;
