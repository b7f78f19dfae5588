import { type Static, Type } from '@sinclair/typebox';
import { CameraIdSchema, IsoTimeSchema, SiteIdSchema, UuidSchema } from './ids.js';
import { EventTypeSchema } from './schemas.js';

/** Roles of people using camhub; a user may hold several. */
export const RoleSchema = Type.Union(
  [Type.Literal('admin'), Type.Literal('operator'), Type.Literal('technician'), Type.Literal('police')],
  { description: 'admin: users and settings; operator: live events; technician: health only; police: history, export' },
);

export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._-]{1,63}$';
export const UsernameSchema = Type.String({ pattern: USERNAME_PATTERN, description: 'Lower case, 2-64 characters' });
export const PasswordSchema = Type.String({
  minLength: 12,
  maxLength: 1024,
  description: 'At least 12 characters; common passwords are refused (400 password_too_common)',
});

export const LoginBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    cookie: Type.Optional(Type.Boolean({ description: 'Also set the httpOnly session cookies (the console)' })),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBodySchema>;

export const TokenResponseSchema = Type.Object({
  token: Type.String({ description: 'Bearer access token (short-lived)' }),
  expiresAt: IsoTimeSchema,
  refreshToken: Type.String({ description: 'Exchange at POST /api/v1/auth/refresh for a new pair' }),
  refreshExpiresAt: IsoTimeSchema,
});
export type TokenResponse = Static<typeof TokenResponseSchema>;

export const RefreshBodySchema = Type.Object(
  { refreshToken: Type.Optional(Type.String({ maxLength: 512, description: 'Or the refresh cookie' })) },
  { additionalProperties: false },
);

export const UserItemSchema = Type.Object({
  id: UuidSchema,
  username: Type.String(),
  roles: Type.Array(RoleSchema),
  sites: Type.Union([Type.Array(SiteIdSchema), Type.Null()], { description: 'null: every site' }),
  disabled: Type.Boolean(),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
});
export type UserItem = Static<typeof UserItemSchema>;

export const CreateUserBodySchema = Type.Object(
  {
    username: UsernameSchema,
    password: PasswordSchema,
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }),
    sites: Type.Optional(Type.Union([Type.Array(SiteIdSchema, { uniqueItems: true }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBodySchema>;

export const UpdateUserBodySchema = Type.Object(
  {
    password: Type.Optional(PasswordSchema),
    roles: Type.Optional(Type.Array(RoleSchema, { minItems: 1, uniqueItems: true })),
    sites: Type.Optional(Type.Union([Type.Array(SiteIdSchema, { uniqueItems: true }), Type.Null()])),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBodySchema>;

export const UsernameParamsSchema = Type.Object({ username: UsernameSchema });

export const SiteTokenItemSchema = Type.Object({
  id: UuidSchema,
  site: SiteIdSchema,
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTimeSchema,
  revokedAt: Type.Union([IsoTimeSchema, Type.Null()]),
});
export type SiteTokenItem = Static<typeof SiteTokenItemSchema>;

export const CreateSiteTokenBodySchema = Type.Object(
  { site: SiteIdSchema, label: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

/**
 * Every action the hub writes to the audit log. One list, so that the console's catalogues can be checked to word
 * each of them (hub/console/src/i18n/catalogues.spec.ts) and a new action cannot reach the log unnamed.
 */
export const AUDIT_ACTIONS = [
  'access.denied',
  'alert.view',
  'api.request',
  'auth.login',
  'auth.login_failed',
  'auth.login_refused',
  'auth.logout',
  'auth.refresh_reused',
  'camera.adopt',
  'camera.remove',
  'camera.update',
  'clip.view',
  'clips.search',
  'event.view',
  'events.search',
  'export.create',
  'export.download',
  'export.release',
  'live.close',
  'live.open',
  'notify.target_created',
  'notify.target_deleted',
  'notify.target_tested',
  'notify.target_updated',
  'retention.run',
  'rule.create',
  'rule.delete',
  'rule.update',
  'site.create',
  'site.update',
  'site_token.create',
  'site_token.revoke',
  'snapshot.view',
  'user.create',
  'user.reset',
  'user.update',
  'video.live.close',
  'video.live.open',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  at: IsoTimeSchema,
  actor: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  ip: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown()),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditQuerySchema = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 100 })),
    action: Type.Optional(Type.String({ maxLength: 100, description: 'Exact action, or a prefix ending in "."' })),
    from: Type.Optional(IsoTimeSchema),
    to: Type.Optional(IsoTimeSchema),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'Keyset: entries with seq below this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;

export const AuditPageSchema = Type.Object({
  items: Type.Array(AuditEntrySchema),
  nextBefore: Type.Union([Type.Integer(), Type.Null()]),
});

/** The history filters, without paging: an export takes every matching event. */
export const ExportRequestSchema = Type.Object(
  {
    site: Type.Optional(SiteIdSchema),
    camera: Type.Optional(CameraIdSchema),
    type: Type.Optional(EventTypeSchema),
    from: Type.Optional(IsoTimeSchema),
    to: Type.Optional(IsoTimeSchema),
    reason: Type.Optional(Type.String({ maxLength: 500, description: 'Case number or purpose, kept in the manifest' })),
  },
  { additionalProperties: false },
);
export type ExportRequest = Static<typeof ExportRequestSchema>;

export const ExportItemSchema = Type.Object({
  id: UuidSchema,
  createdBy: Type.String(),
  createdAt: IsoTimeSchema,
  filters: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  events: Type.Union([Type.Integer(), Type.Null()]),
  snapshots: Type.Union([Type.Integer(), Type.Null()]),
  bytes: Type.Union([Type.Integer(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
  releasedAt: Type.Union([IsoTimeSchema, Type.Null()]),
});
export type ExportItem = Static<typeof ExportItemSchema>;
