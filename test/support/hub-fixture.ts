import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { HubConfig } from '../../hub/src/config.js';
import { buildHub, createHubEnv, type TestHubEnv } from './hub.js';

export interface HubFixture {
  env: TestHubEnv;
  hub: FastifyInstance;
}

/**
 * A test file's hub in one call: its own environment (database, queue prefix, topic root) and the app built on it
 * before the file's tests, both closed and removed after them. Read `env` and `hub` inside hooks and tests (they
 * are set once `beforeAll` has run).
 */
export function useTestHub(overrides: Partial<HubConfig> = {}, opts: Parameters<typeof buildHub>[1] = {}): HubFixture {
  const fixture = {} as HubFixture;
  beforeAll(async () => {
    fixture.env = await createHubEnv(overrides);
    fixture.hub = await buildHub(fixture.env.config, opts);
  });
  afterAll(async () => {
    await fixture.hub?.close();
    await fixture.env?.cleanup();
  });
  return fixture;
}
