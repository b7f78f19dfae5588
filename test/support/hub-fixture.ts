import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { HubConfig } from '../../hub/src/config.js';
import { buildHub, createHubEnv, type TestHubEnv } from './hub.js';

export interface HubEnvFixture {
  env: TestHubEnv;
}

export interface HubFixture extends HubEnvFixture {
  env: TestHubEnv;
  hub: FastifyInstance;
}

type BuildOptions = NonNullable<Parameters<typeof buildHub>[1]>;
/** A value, or a function read when the fixture's `beforeAll` runs (after the file's earlier hooks: stand-ins' ports). */
type Lazy<T> = T | (() => T);
const read = <T>(v: Lazy<T>): T => (typeof v === 'function' ? (v as () => T)() : v);
/** A fresh database migrated and a hub built: seconds on a quiet machine, more than a minute on a loaded 2-core one. */
const BUILD_TIMEOUT_MS = 120_000;

/**
 * A test file's hub in one call: its own environment (database, queue prefix, topic root) and the app built on it
 * before the file's tests, both closed and removed after them. Read `env` and `hub` inside hooks and tests (they
 * are set once `beforeAll` has run). Overrides that depend on something an earlier `beforeAll` starts (a stand-in's
 * port) are given as a function. Hooks registered after this one run after the hub is built and their `afterAll`
 * before it is closed.
 */
export function useTestHub(overrides: Lazy<Partial<HubConfig>> = {}, opts: Lazy<BuildOptions> = {}): HubFixture {
  const fixture = {} as HubFixture;
  beforeAll(async () => {
    fixture.env = await createHubEnv(read(overrides));
    fixture.hub = await buildHub(fixture.env.config, read(opts));
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await fixture.hub?.close();
    await fixture.env?.cleanup();
  });
  return fixture;
}

/**
 * Only the environment (database, queue prefix, topic root), for files that run the hub as a child process
 * (crash tests, the assembled image): created before the file's tests, removed after them.
 */
export function useTestHubEnv(overrides: Lazy<Partial<HubConfig>> = {}): HubEnvFixture {
  const fixture = {} as HubEnvFixture;
  beforeAll(async () => {
    fixture.env = await createHubEnv(read(overrides));
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await fixture.env?.cleanup();
  });
  return fixture;
}
