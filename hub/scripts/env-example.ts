/**
 * Writes .env.example from the hub's config schema, so the example can never drift from what the hub reads:
 *   npx tsx hub/scripts/env-example.ts > .env.example
 * hub/src/config.spec.ts fails when the committed file differs from this output.
 */
import { HubConfigSchema } from '../src/config.js';

const SECRET = /PASSWORD|SECRET|TOKENS/;

export function renderEnvExample(): string {
  const lines = [
    '# Hub settings (environment). Generated from hub/src/config.ts by `npx tsx hub/scripts/env-example.ts`.',
    '# Commented lines show the default; uncomment to change. Secrets have no default and are never committed.',
    '',
  ];
  for (const [key, schema] of Object.entries(HubConfigSchema.properties)) {
    const s = schema as { description?: string; default?: unknown };
    if (s.description) lines.push(`# ${s.description}`);
    // The client id defaults to one derived from the host name; the example must not carry this machine's.
    const value = key === 'MQTT_CLIENT_ID' ? 'camhub-hub-<hostname>' : s.default === undefined ? '' : String(s.default);
    lines.push(SECRET.test(key) || s.default === undefined ? `# ${key}=` : `# ${key}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderEnvExample());
