/**
 * The camera forms' checks (adopt a discovered camera, add one by its address, edit a camera), apart from the view:
 * the problems that keep a form from being sent, as catalogue keys with parameters, so that every message is in the
 * user's language instead of the browser's own validation bubbles. The hub checks again (shared/camera-registry.ts);
 * the patterns below are that schema's, tied to it by camera-form.spec.ts.
 */
import type { Problem } from './rule-form.js';

/** shared's IDENTIFIER_PATTERN (camera ids). */
export const CAMERA_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** shared's host field: a host name or an IPv4/IPv6 address. */
export const CAMERA_HOST = /^[A-Za-z0-9.:_[\]-]+$/;

export interface CameraFields {
  /** Only when adopting or adding: an edit cannot change the id. */
  id?: string;
  name: string;
  location: string;
  /** Absent for a camera of the agent's YAML (the hub holds no connection for it). */
  connection?: {
    host: string;
    port: string;
    username: string;
    password: string;
    /** Adopting and adding need a password; editing keeps the stored one when the field is left empty. */
    passwordRequired: boolean;
  };
}

/** What keeps the form from being sent, in the order of its fields. */
export function cameraProblems(f: CameraFields): Problem[] {
  const out: Problem[] = [];
  if (f.id !== undefined && !CAMERA_ID.test(f.id.trim())) out.push({ key: 'cameras.v.id' });
  const name = f.name.trim();
  if (!name) out.push({ key: 'cameras.v.name' });
  else if (name.length > 128) out.push({ key: 'cameras.v.nameLong', params: { max: 128 } });
  if (f.location.trim().length > 300) out.push({ key: 'cameras.v.locationLong', params: { max: 300 } });
  const c = f.connection;
  if (c) {
    const host = c.host.trim();
    if (!host || host.length > 255 || !CAMERA_HOST.test(host)) out.push({ key: 'cameras.v.host' });
    const port = c.port.trim();
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) out.push({ key: 'cameras.v.port' });
    if (!c.username.trim() || c.username.length > 128) out.push({ key: 'cameras.v.username' });
    if (c.passwordRequired && !c.password) out.push({ key: 'cameras.v.password' });
    if (c.password.length > 1024) out.push({ key: 'cameras.v.passwordLong', params: { max: 1024 } });
  }
  return out;
}
