import type { AgentConfigReport, SiteConfig } from '@camhub/shared';
import type { CameraConfig } from '../config.js';

export interface EffectiveCamera {
  camera: CameraConfig;
  source: 'hub' | 'local';
}

export interface EffectiveCameras {
  /** What the agent runs: one supervisor each. */
  run: EffectiveCamera[];
  /** Cameras the hub disabled (local or adopted): reported, not run. */
  disabled: { id: string; source: 'hub' | 'local' }[];
}

/**
 * Precedence (docs/edge-agent.md): the local YAML is the bootstrap; the hub's configuration, once one is held,
 * overrides it camera by camera. A hub entry with a connection defines (or replaces) that camera; a hub entry with
 * `enabled: false` stops it whichever side defined it; a local camera the hub does not name keeps running as the
 * YAML says.
 */
export function effectiveCameras(local: readonly CameraConfig[], hub: SiteConfig | null): EffectiveCameras {
  const byId = new Map<string, EffectiveCamera>(local.map((camera) => [camera.id, { camera, source: 'local' }]));
  const disabled: EffectiveCameras['disabled'] = [];
  for (const entry of hub?.cameras ?? []) {
    const wasLocal = byId.get(entry.id)?.source === 'local';
    if (!entry.enabled) {
      byId.delete(entry.id);
      disabled.push({ id: entry.id, source: entry.host !== undefined || !wasLocal ? 'hub' : 'local' });
      continue;
    }
    if (entry.host === undefined || entry.port === undefined || entry.username === undefined) {
      // A local camera renamed in the console: same connection, the hub's name.
      const local = byId.get(entry.id);
      if (local && entry.name) byId.set(entry.id, { ...local, camera: { ...local.camera, name: entry.name } });
      continue;
    }
    const camera: CameraConfig = {
      id: entry.id,
      name: entry.name ?? entry.id,
      host: entry.host,
      port: entry.port,
      username: entry.username,
      password: entry.password ?? '',
    };
    if (entry.profile) camera.profile = entry.profile;
    if (entry.subProfile) camera.subProfile = entry.subProfile;
    byId.set(entry.id, { camera, source: 'hub' });
  }
  return { run: [...byId.values()], disabled };
}

/** Whether a running camera must be restarted: a field of its connection changed (a new name alone does not). */
export function sameConnection(a: CameraConfig, b: CameraConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof CameraConfig>;
  for (const k of keys) if (k !== 'name' && a[k] !== b[k]) return false;
  return true;
}

/** The per-camera part of the agent's report, in id order. */
export function cameraReport(
  effective: EffectiveCameras,
  failed: ReadonlyMap<string, string>,
): AgentConfigReport['cameras'] {
  const rows: AgentConfigReport['cameras'] = [
    ...effective.run.map((e) => {
      const code = failed.get(e.camera.id);
      return code
        ? { id: e.camera.id, source: e.source, result: 'failed' as const, code }
        : { id: e.camera.id, source: e.source, result: 'running' as const };
    }),
    ...effective.disabled.map((d) => ({ id: d.id, source: d.source, result: 'disabled' as const })),
  ];
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, 1024);
}
