import { type Static, Type } from '@sinclair/typebox';
import { CameraIdSchema, IsoTimeSchema, SiteIdSchema } from './ids.js';
import { CameraViewStatusSchema, DiscoveredCameraSchema } from './schemas.js';
import { AgentConfigReportSchema } from './site-config.js';

/**
 * The cameras registry API (`/api/v1/sites/{site}/cameras`): names and places of a site's cameras, the cameras its
 * agent discovered and nobody adopted, and adoption itself. A camera's password goes in (adopt, change) and never
 * comes out: the API says only whether one is set.
 */

const nameField = Type.String({ minLength: 1, maxLength: 128, description: 'Name for people, e.g. "Cổng chính"' });
const locationField = Type.String({ maxLength: 300, description: 'Where it is, e.g. "Ngõ 12, cột điện số 3"' });
const hostField = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[A-Za-z0-9.:_\\[\\]-]+$',
  description: 'Host name or address the agent reaches the camera at',
});
const portField = Type.Integer({ minimum: 1, maximum: 65535 });
const usernameField = Type.String({ minLength: 1, maxLength: 128 });
const passwordField = Type.String({ minLength: 1, maxLength: 1024, description: 'Write-only: never returned' });
const profileField = Type.String({ minLength: 1, maxLength: 128, description: 'ONVIF media profile token' });

export const RegistryCameraSchema = Type.Object({
  site: SiteIdSchema,
  camera: CameraIdSchema,
  name: Type.String({ description: 'Display name: the registry name, else the agent-reported one, else the id' }),
  location: Type.String(),
  enabled: Type.Boolean(),
  /** The hub holds its connection (adopted in the console); false: the agent's YAML defines it. */
  adopted: Type.Boolean(),
  host: Type.Union([Type.String(), Type.Null()]),
  port: Type.Union([Type.Integer(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  passwordSet: Type.Boolean(),
  profile: Type.Union([Type.String(), Type.Null()]),
  subProfile: Type.Union([Type.String(), Type.Null()]),
  endpoint: Type.Union([Type.String(), Type.Null()]),
  /** The hub's status verdict, null for a camera that never reported. */
  status: Type.Union([CameraViewStatusSchema, Type.Null()]),
  /** What the agent said it did with it, null when its report does not name it. */
  applied: Type.Union([
    Type.Object({
      source: Type.String(),
      result: Type.String(),
      code: Type.Optional(Type.String()),
    }),
    Type.Null(),
  ]),
});
export type RegistryCamera = Static<typeof RegistryCameraSchema>;

export const SiteCamerasSchema = Type.Object({
  site: SiteIdSchema,
  /** The configuration version the hub wants the agent to run (null: the hub never configured this site). */
  version: Type.Union([Type.Integer(), Type.Null()]),
  publishedVersion: Type.Union([Type.Integer(), Type.Null()]),
  agent: Type.Union([
    Type.Object({
      state: Type.String(),
      at: IsoTimeSchema,
      config: Type.Union([AgentConfigReportSchema, Type.Null()]),
    }),
    Type.Null(),
  ]),
  cameras: Type.Array(RegistryCameraSchema),
  /** Found by the agent's WS-Discovery, not adopted, not in its YAML. */
  discovered: Type.Array(DiscoveredCameraSchema),
});
export type SiteCameras = Static<typeof SiteCamerasSchema>;

export const AdoptCameraInputSchema = Type.Object(
  {
    id: CameraIdSchema,
    name: nameField,
    location: Type.Optional(locationField),
    host: hostField,
    port: portField,
    username: usernameField,
    password: passwordField,
    profile: Type.Optional(profileField),
    subProfile: Type.Optional(profileField),
    endpoint: Type.Optional(Type.String({ maxLength: 256, description: 'WS-Discovery endpoint it was found as' })),
  },
  { additionalProperties: false },
);
export type AdoptCameraInput = Static<typeof AdoptCameraInputSchema>;

/** Name, place and `enabled` for any camera; connection fields only for an adopted one. */
export const CameraPatchSchema = Type.Object(
  {
    name: Type.Optional(nameField),
    location: Type.Optional(locationField),
    enabled: Type.Optional(Type.Boolean()),
    host: Type.Optional(hostField),
    port: Type.Optional(portField),
    username: Type.Optional(usernameField),
    password: Type.Optional(passwordField),
    profile: Type.Optional(Type.Union([profileField, Type.Null()])),
    subProfile: Type.Optional(Type.Union([profileField, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CameraPatch = Static<typeof CameraPatchSchema>;

export const SiteCameraParamsSchema = Type.Object({ site: SiteIdSchema, camera: CameraIdSchema });
