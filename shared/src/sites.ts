import { type Static, Type } from '@sinclair/typebox';
import { IsoTimeSchema, SiteIdSchema } from './ids.js';

/**
 * Kinds of units that join a community camera network ("liên kết camera an ninh trật tự"): residential groups
 * (tổ dân phố / thôn), businesses, schools, markets, public places, public offices. Codes; the console names them.
 */
export const SITE_KINDS = [
  'residential_group',
  'business',
  'school',
  'market',
  'public_place',
  'public_office',
  'other',
] as const;
export type SiteKind = (typeof SITE_KINDS)[number];
export const SiteKindSchema = Type.Union(
  SITE_KINDS.map((k) => Type.Literal(k)),
  { description: 'Kind of participating unit' },
);

const text = (maxLength: number, description: string) => Type.String({ maxLength, description });
const DateOnlySchema = Type.String({
  pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'A calendar date, YYYY-MM-DD',
});

const siteFields = {
  name: Type.String({ minLength: 1, maxLength: 120, description: 'Name for people, e.g. "Tổ dân phố Đồng Tâm"' }),
  kind: SiteKindSchema,
  address: text(300, 'Street address or description of the place'),
  contactName: text(120, 'Contact person at the unit'),
  contactPhone: Type.String({ maxLength: 32, pattern: '^[0-9+() .-]*$', description: 'Contact phone' }),
  timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Asia/Ho_Chi_Minh' }),
  joinedOn: Type.Union([DateOnlySchema, Type.Null()], { description: 'When the unit joined the network' }),
  notes: text(2000, 'Free notes'),
  active: Type.Boolean({ description: 'False once the unit has left (its history stays)' }),
};

export const SiteInputSchema = Type.Object(
  {
    id: SiteIdSchema,
    name: siteFields.name,
    kind: siteFields.kind,
    address: Type.Optional(siteFields.address),
    contactName: Type.Optional(siteFields.contactName),
    contactPhone: Type.Optional(siteFields.contactPhone),
    timeZone: Type.Optional(siteFields.timeZone),
    joinedOn: Type.Optional(siteFields.joinedOn),
    notes: Type.Optional(siteFields.notes),
    active: Type.Optional(siteFields.active),
  },
  { additionalProperties: false },
);
export type SiteInput = Static<typeof SiteInputSchema>;

export const SitePatchSchema = Type.Partial(Type.Omit(SiteInputSchema, ['id']), { additionalProperties: false });
export type SitePatch = Static<typeof SitePatchSchema>;

export const SiteCameraCountsSchema = Type.Object({
  total: Type.Integer(),
  online: Type.Integer(),
  degraded: Type.Integer(),
  offline: Type.Integer(),
  unknown: Type.Integer(),
});

export const SiteSchema = Type.Object({
  id: SiteIdSchema,
  /** False for a site the hub has heard from (an agent, a camera) that nobody has registered yet. */
  registered: Type.Boolean(),
  name: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Union([SiteKindSchema, Type.Null()]),
  address: Type.String(),
  contactName: Type.String(),
  contactPhone: Type.String(),
  timeZone: Type.String(),
  joinedOn: Type.Union([DateOnlySchema, Type.Null()]),
  notes: Type.String(),
  active: Type.Boolean(),
  cameras: SiteCameraCountsSchema,
  createdAt: Type.Union([IsoTimeSchema, Type.Null()]),
  updatedAt: Type.Union([IsoTimeSchema, Type.Null()]),
});
export type Site = Static<typeof SiteSchema>;
export const SitesResponseSchema = Type.Object({ items: Type.Array(SiteSchema) });
export const SiteParamsSchema = Type.Object({ site: SiteIdSchema });
