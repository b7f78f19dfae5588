import { ErrorResponseSchema } from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import { CONTENT_REF_PATTERN } from './content-store.js';

/**
 * The HTTP shape of an agent's upload of a content-addressed file (snapshots: media.routes.ts, clips:
 * clips/clips.routes.ts): `PUT …/:ref` with the bytes; 201 stored, 200 already there; 400 wrong bytes or digest, 401
 * no site token, 413 too large or over the day's quota, 429 over the rate, 507 disk full.
 */
export function contentUploadSchema(summary: string) {
  return {
    tags: ['media'],
    summary,
    params: Type.Object({ ref: Type.String({ pattern: CONTENT_REF_PATTERN }) }),
    response: {
      200: Type.Object({ ref: Type.String(), created: Type.Boolean() }),
      201: Type.Object({ ref: Type.String(), created: Type.Boolean() }),
      400: ErrorResponseSchema,
      401: ErrorResponseSchema,
      413: ErrorResponseSchema,
      429: ErrorResponseSchema,
      507: ErrorResponseSchema,
    },
  };
}
