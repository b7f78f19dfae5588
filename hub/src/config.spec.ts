import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEnvExample } from '../scripts/env-example.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

describe(loadConfig.name, () => {
  it('gives the contract defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.MQTT_URL).toBe('mqtt://127.0.0.1:1883');
    expect(c.DATABASE_URL).toMatch(/^postgres:\/\/.*@127\.0\.0\.1:5432\//);
  });

  it('reports every bad variable at once, each by name', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', MQTT_URL: 'http://broker', INGEST_BATCH_MAX: '0', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'MQTT_URL', 'INGEST_BATCH_MAX', 'LOG_LEVEL']) expect(problems).toContain(`${name}:`);
    expect((err as ConfigError).problems).toHaveLength(4);
  });
});

describe('.env.example', () => {
  it('is generated from the schema and lists every setting (npx tsx hub/scripts/env-example.ts > .env.example)', () => {
    const committed = readFileSync(join(import.meta.dirname, '../../.env.example'), 'utf8');
    expect(committed).toBe(renderEnvExample());
  });
});
