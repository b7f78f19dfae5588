import { createReadStream } from 'node:fs';
import { ErrorResponseSchema, ExportItemSchema, ExportRequestSchema, UuidSchema } from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditActor } from '../auth/request-auth.js';
import type { Services } from '../container.js';

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
};
const zip = Type.Unsafe<NodeJS.ReadableStream>({ type: 'string', format: 'binary', description: 'application/zip' });
const IdParams = Type.Object({ id: UuidSchema });

/** Evidence exports: signed zip archives of events and snapshots, for the police. */
const exportsRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'exports'>> = async (app, deps) => {
  app.post(
    '/exports',
    {
      config: { access: { roles: ['police'] }, audited: true },
      schema: {
        tags: ['exports'],
        summary: 'Builds a signed archive of the events matching the history filters, and returns it (zip)',
        body: ExportRequestSchema,
        response: { 200: zip, 413: ErrorResponseSchema, ...errors },
      },
    },
    async (req, reply) => {
      const record = await deps.exports.create(req.body, req.user!, auditActor(req));
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="camhub-export-${record.id}.zip"`)
        .header('content-length', record.bytes!)
        .header('x-camhub-export-id', record.id)
        .header('x-camhub-export-sha256', record.sha256!)
        .send(createReadStream(record.file!));
    },
  );

  app.get(
    '/exports',
    {
      config: { access: { roles: ['admin', 'police'] } },
      schema: {
        tags: ['exports'],
        summary: 'Exports (police: their own)',
        response: { 200: Type.Object({ items: Type.Array(ExportItemSchema) }), ...errors },
      },
    },
    async (req) => ({ items: await deps.exports.list(req.user!) }),
  );

  app.get(
    '/exports/:id/archive',
    {
      config: { access: { roles: ['admin', 'police'] }, audited: true },
      schema: {
        tags: ['exports'],
        summary: 'Downloads an export again (audited)',
        params: IdParams,
        response: { 200: zip, ...errors },
      },
    },
    async (req, reply) => {
      const { record, path, size } = await deps.exports.archive(req.params.id, req.user!, auditActor(req));
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="camhub-export-${record.id}.zip"`)
        .header('content-length', size)
        .header('x-camhub-export-sha256', record.sha256!)
        .send(createReadStream(path));
    },
  );

  app.post(
    '/exports/:id/release',
    {
      config: { access: { roles: ['admin', 'police'] }, audited: true },
      schema: {
        tags: ['exports'],
        summary: "Releases the export's hold on its events (retention may then delete them) and deletes the archive",
        params: IdParams,
        response: { 200: ExportItemSchema, ...errors },
      },
    },
    async (req) => deps.exports.release(req.params.id, req.user!, auditActor(req)),
  );
};
export default exportsRoutes;
