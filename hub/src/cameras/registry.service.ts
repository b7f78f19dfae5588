import type {
  AdoptCameraInput,
  CameraPatch,
  DiscoveredCamera,
  RegistryCamera,
  SiteCameraConfig,
  SiteCameras,
  SiteConfig,
} from '@camhub/shared';
import type pg from 'pg';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import { withTransaction } from '../db/queryable.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import type { SecretBox } from '../notify/secrets.js';
import type { RegistryChange, RegistryRepository, RegistryRow } from './registry.repository.js';

/** Sealed values are bound to their camera: a sealed password copied onto another row does not open. */
export const cameraSecretBinding = (site: string, camera: string) => `camera:${site}/${camera}`;

const hostPort = (address: string): string | null => {
  try {
    const url = new URL(address);
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    // Not a URL (a camera's odd XAddr): it matches nothing, and the camera stays offered.
    return null;
  }
};

/** Discovered cameras that an adoption already covers (same endpoint, or an XAddr at an adopted host:port). */
export function notAdopted(discovered: DiscoveredCamera[], rows: RegistryRow[]): DiscoveredCamera[] {
  const endpoints = new Set(rows.map((r) => r.endpoint).filter(Boolean));
  const addresses = new Set(rows.filter((r) => r.host && r.port).map((r) => `${r.host}:${r.port}`));
  return discovered.filter(
    (d) => !endpoints.has(d.endpoint) && !d.xaddrs.some((x) => addresses.has(hostPort(x) ?? '')),
  );
}

/** A registry row as a site config entry: the whole connection for an adopted camera, else name or `enabled`. */
export function configEntry(row: RegistryRow, password: string | null): SiteCameraConfig {
  const entry: SiteCameraConfig = { id: row.camera, enabled: row.enabled };
  if (row.registry_name) entry.name = row.registry_name;
  if (row.adopted && row.host && row.port && row.username && password !== null) {
    Object.assign(entry, { host: row.host, port: row.port, username: row.username, password });
    if (row.profile) entry.profile = row.profile;
    if (row.sub_profile) entry.subProfile = row.sub_profile;
  }
  return entry;
}

/**
 * The cameras registry and remote adoption. Every change bumps the site's configuration version in the same
 * transaction, then asks for it to be published (`publish`, a durable job): the agent gets the whole desired
 * configuration, never a diff, so a lost message is healed by the next one.
 */
export function createRegistryService(deps: {
  pool: pg.Pool;
  repo: RegistryRepository;
  box: SecretBox;
  audit: AuditService;
  /** Set by the site-config plugin: queues the publication of the site's configuration. */
  publish?: (site: string) => Promise<void>;
}) {
  const { pool, repo, box, audit } = deps;
  const seal = (site: string, camera: string, password: string) =>
    box.seal({ password }, cameraSecretBinding(site, camera));

  const view = (row: RegistryRow, applied: RegistryCamera['applied']): RegistryCamera => ({
    site: row.site,
    camera: row.camera,
    name: row.name,
    location: row.location,
    enabled: row.enabled,
    adopted: row.adopted,
    host: row.host,
    port: row.port,
    username: row.username,
    passwordSet: row.secrets !== null,
    profile: row.profile,
    subProfile: row.sub_profile,
    endpoint: row.endpoint,
    status: (row.status as RegistryCamera['status']) ?? null,
    applied,
  });

  async function changed(site: string): Promise<void> {
    await deps.publish?.(site);
  }

  const service = {
    /** Setting the publisher after the container is built: the plugin owns the queue. */
    setPublisher(publish: (site: string) => Promise<void>) {
      deps.publish = publish;
    },

    async list(site: string): Promise<SiteCameras> {
      const [rows, state, agent] = await Promise.all([repo.list(site), repo.configState(site), repo.agent(site)]);
      const applied = new Map((agent?.config?.cameras ?? []).map((c) => [c.id, c]));
      return {
        site,
        version: state.version,
        publishedVersion: state.published_version,
        agent: agent ? { state: agent.state, at: agent.at.toISOString(), config: agent.config ?? null } : null,
        cameras: rows.map((r) => {
          const a = applied.get(r.camera);
          return view(r, a ? { source: a.source, result: a.result, ...(a.code ? { code: a.code } : {}) } : null);
        }),
        discovered: notAdopted(agent?.unadopted ?? [], rows),
      };
    },

    async adopt(site: string, input: AdoptCameraInput, who: AuditActor): Promise<RegistryCamera> {
      const version = await withTransaction(pool, async (tx) => {
        if (await repo.get(site, input.id, tx)) {
          throw new ConflictError('camera_exists', `camera ${site}/${input.id} already exists`);
        }
        await repo.unmarkRemoved(site, input.id, tx);
        await repo.insert(
          site,
          input.id,
          {
            name: input.name,
            location: input.location ?? '',
            adopted: true,
            enabled: true,
            host: input.host,
            port: input.port,
            username: input.username,
            secrets: seal(site, input.id, input.password),
            profile: input.profile ?? null,
            sub_profile: input.subProfile ?? null,
            endpoint: input.endpoint ?? null,
          },
          tx,
        );
        return repo.bumpVersion(site, tx);
      });
      const { password: _password, ...detail } = input;
      await audit.record(who, {
        action: 'camera.adopt',
        target: `${site}/${input.id}`,
        detail: { ...detail, passwordSet: true, version },
      });
      await changed(site);
      return view((await repo.get(site, input.id))!, null);
    },

    async update(site: string, camera: string, patch: CameraPatch, who: AuditActor): Promise<RegistryCamera> {
      const version = await withTransaction(pool, async (tx) => {
        const row = await repo.get(site, camera, tx);
        if (!row) throw new NotFoundError('camera');
        const connection = (['host', 'port', 'username', 'password', 'profile', 'subProfile'] as const).filter(
          (k) => patch[k] !== undefined,
        );
        // A YAML camera's connection lives on the edge box; the hub can name, place and disable it only.
        if (connection.length && !row.adopted) {
          throw new BadRequestError('camera_not_adopted', `${connection.join(', ')}: only for an adopted camera`);
        }
        const change: RegistryChange = {};
        if (patch.name !== undefined) change.name = patch.name;
        if (patch.location !== undefined) change.location = patch.location;
        if (patch.enabled !== undefined) change.enabled = patch.enabled;
        if (patch.host !== undefined) change.host = patch.host;
        if (patch.port !== undefined) change.port = patch.port;
        if (patch.username !== undefined) change.username = patch.username;
        if (patch.password !== undefined) change.secrets = seal(site, camera, patch.password);
        if (patch.profile !== undefined) change.profile = patch.profile;
        if (patch.subProfile !== undefined) change.sub_profile = patch.subProfile;
        await repo.upsert(site, camera, change, tx);
        if (patch.name !== undefined) await repo.renameKnown(site, camera, patch.name, tx);
        // Location alone is for people: the agent's configuration does not change.
        const forAgent = Object.keys(change).some((k) => k !== 'location');
        return forAgent ? repo.bumpVersion(site, tx) : null;
      });
      const { password, ...detail } = patch;
      await audit.record(who, {
        action: 'camera.update',
        target: `${site}/${camera}`,
        detail: { ...detail, ...(password !== undefined ? { passwordChanged: true } : {}), version },
      });
      if (version !== null) await changed(site);
      return view((await repo.get(site, camera))!, null);
    },

    /**
     * Removes an adopted camera: its agent stops it, the hub forgets its status (its events stay). A YAML camera
     * cannot be removed from here: its file defines it; it can be disabled.
     */
    async remove(site: string, camera: string, who: AuditActor): Promise<void> {
      const version = await withTransaction(pool, async (tx) => {
        const row = await repo.get(site, camera, tx);
        if (!row) throw new NotFoundError('camera');
        if (!row.adopted) {
          throw new ConflictError(
            'camera_local',
            'this camera is defined by its agent\u2019s file: disable it instead',
          );
        }
        await repo.remove(site, camera, tx);
        await repo.forgetKnown(site, camera, tx);
        const next = await repo.bumpVersion(site, tx);
        // Its agent runs it until this version arrives: what it says until then must not bring the row back.
        await repo.markRemoved(site, camera, next, tx);
        return next;
      });
      await audit.record(who, { action: 'camera.remove', target: `${site}/${camera}`, detail: { version } });
      await changed(site);
    },

    /** The site's desired configuration, passwords opened: only for the publisher, never for the API. */
    async desiredConfig(site: string): Promise<SiteConfig | null> {
      const state = await repo.configState(site);
      if (state.version === null) return null;
      const rows = await repo.configRows(site);
      return {
        v: 1,
        site,
        version: state.version,
        at: new Date().toISOString(),
        cameras: rows.map((r) =>
          configEntry(
            r,
            r.adopted && r.secrets ? (box.open(r.secrets, cameraSecretBinding(site, r.camera)).password ?? '') : null,
          ),
        ),
      };
    },

    markPublished: (site: string, version: number) => repo.markPublished(site, version),
    configuredSites: () => repo.configuredSites(),
  };
  return service;
}
export type RegistryService = ReturnType<typeof createRegistryService>;
