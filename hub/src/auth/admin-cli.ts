import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createHubPool } from '../db/pool.js';
import { createRedis } from '../plugins/redis-client.js';
import { ROLES, type Role } from './access.js';
import type { AuditActor } from '../audit/audit.service.js';
import type { HubConfig } from '../config.js';
import { buildContainer, type ContainerDeps, type Services } from '../container.js';
import { AppError } from '../errors.js';
import { verifyExport } from '../exports/verify-export.js';
import { createMetrics } from '../metrics/metrics.js';
import { PASSWORD_MIN_LENGTH } from './password-policy.js';
import { generateHubKeyPem, keysFromPrivate, loadOrCreateHubKey } from './keys.js';

/** A bad command line: the CLI prints it with the usage and exits 64. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const SECURITY_USAGE = `  user add <name> --roles r1,r2 [--sites s1,s2]   create a user (password read from stdin)
  user list                                       list users
  user set-password <name>                        new password from stdin; ends the user's sessions
  user set <name> [--roles r1,r2] [--sites s1,s2|--all-sites]   change roles or sites
  user disable <name> | user enable <name>
  site-token add <site> [--label text]            new edge-agent upload token (printed once)
  site-token list | site-token revoke <id>
  verify-audit                                    recompute the audit hash chain (exit 1 if broken)
  verify-export <file.zip> [--public-key pem]     check an evidence archive (exit 1 if not intact)
  keygen                                          create the hub key (HUB_KEY_FILE) if it does not exist`;

const actor = (): AuditActor => ({ actor: `cli:${userInfo().username}`, roles: [], ip: null });

async function readStdinLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line.length < PASSWORD_MIN_LENGTH) {
    throw new UsageError(`the password (stdin) must have at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  return line;
}

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

function roles(v: string | undefined): Role[] | undefined {
  const r = list(v);
  if (!r) return undefined;
  const bad = r.filter((x) => !(ROLES as readonly string[]).includes(x));
  if (bad.length) throw new UsageError(`unknown role(s) ${bad.join(', ')}; roles are ${ROLES.join(', ')}`);
  return r as Role[];
}

/**
 * Runs `fn` with the same services the server builds (container.ts), on a small pool. The hub key is the one the
 * server uses (created on first use, as the server does). Redis is only reached if a command changes alert rules,
 * which none does, so the connection is lazy.
 */
async function withServices<T>(config: HubConfig, fn: (s: Services) => Promise<T>): Promise<T> {
  const pool = createHubPool({ url: config.DATABASE_URL, max: 2, applicationName: 'camhub-cli' });
  const redis = createRedis(config, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const keys = await loadOrCreateHubKey(config.HUB_KEY_FILE, (m) => console.error(m));
    const container = buildContainer({ config, pg: pool, redis, log: cliLog, keys, metrics: createMetrics() });
    return await fn(container.services);
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

/** The container's logger in the CLI: warnings and errors to stderr, nothing else. */
const cliLog = {
  info: () => undefined,
  warn: (obj: unknown, msg?: string) => console.error(msg ?? obj),
  error: (obj: unknown, msg?: string) => console.error(msg ?? obj),
} as unknown as ContainerDeps['log'];

/** The access-control commands of `npm run hub -- …`. Returns the exit code. */
export async function runSecurityCommand(config: HubConfig, command: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      roles: { type: 'string' },
      sites: { type: 'string' },
      'all-sites': { type: 'boolean' },
      label: { type: 'string' },
      'public-key': { type: 'string' },
    },
  });
  const [sub, arg] = positionals;
  const out = (v: unknown) => console.log(typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  try {
    switch (command) {
      case 'user':
        return await withServices(config, async ({ users }) => {
          if (sub === 'list') {
            for (const u of await users.list()) {
              out(`${u.username}\t${u.roles.join(',')}\t${u.sites?.join(',') ?? '*'}${u.disabled ? '\tdisabled' : ''}`);
            }
            return 0;
          }
          if (!arg) throw new UsageError(`user ${sub ?? ''}: a user name is required`);
          switch (sub) {
            case 'add': {
              const r = roles(values.roles);
              if (!r) throw new UsageError('user add: --roles is required');
              out(
                await users.create(
                  { username: arg, password: await readStdinLine(), roles: r, sites: list(values.sites) ?? null },
                  actor(),
                ),
              );
              return 0;
            }
            case 'set-password':
              await users.update(arg, { password: await readStdinLine() }, actor());
              out(`password of ${arg} changed; their sessions have ended`);
              return 0;
            case 'set':
              out(
                await users.update(
                  arg,
                  { roles: roles(values.roles), sites: values['all-sites'] ? null : list(values.sites) },
                  actor(),
                ),
              );
              return 0;
            case 'disable':
            case 'enable':
              out(await users.update(arg, { disabled: sub === 'disable' }, actor()));
              return 0;
            default:
              throw new UsageError(`unknown user command "${sub}"`);
          }
        });
      case 'site-token':
        return await withServices(config, async ({ auth }) => {
          if (sub === 'list') {
            for (const t of await auth.listSiteTokens()) {
              out(`${t.id}\t${t.site}\t${t.label ?? ''}\t${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}`);
            }
            return 0;
          }
          if (!arg) throw new UsageError(`site-token ${sub ?? ''}: an argument is required`);
          if (sub === 'add') {
            const t = await auth.createSiteToken(arg, values.label ?? null, actor());
            console.error(`token ${t.id} for site ${t.site}; give it to the agent as its hub upload token:`);
            out(t.token);
            return 0;
          }
          if (sub === 'revoke') {
            out(await auth.revokeSiteToken(arg, actor()));
            return 0;
          }
          throw new UsageError(`unknown site-token command "${sub}"`);
        });
      case 'verify-audit':
        return await withServices(config, async ({ audit }) => {
          const r = await audit.verify();
          out(
            r.ok
              ? `audit chain intact: ${r.checked} entries, ${r.base.seq + 1}..${r.head.seq}, head ${r.head.hash}`
              : `AUDIT CHAIN BROKEN (${r.problems.length} problem(s)):`,
          );
          for (const p of r.problems) out(`  entry ${p.seq}: ${p.problem}: ${p.detail}`);
          return r.ok ? 0 : 1;
        });
      case 'verify-export': {
        if (!sub) throw new UsageError('verify-export: the archive path is required');
        const key = values['public-key']
          ? createPublicKey(await readFile(values['public-key'], 'utf8'))
          : createPublicKey(createPrivateKey(await readFile(config.HUB_KEY_FILE, 'utf8')));
        const r = await verifyExport(sub, key);
        if (r.ok && r.manifest) {
          const m = r.manifest;
          out(`export ${m.exportId} is intact: signature valid, ${r.filesChecked} file(s) match their SHA-256`);
          out(`  exported by ${m.exportedBy.username} (${m.exportedBy.roles.join(', ')}) at ${m.createdAt}`);
          out(`  filters ${JSON.stringify(m.filters)}${m.reason ? `, reason: ${m.reason}` : ''}`);
          out(`  ${m.counts.events} event(s), ${m.counts.snapshots} snapshot(s), ${m.counts.snapshotsMissing} missing`);
          return 0;
        }
        out('EXPORT NOT INTACT:');
        for (const p of r.problems) out(`  ${p}`);
        return 1;
      }
      case 'keygen': {
        const pem = generateHubKeyPem();
        await mkdir(dirname(config.HUB_KEY_FILE), { recursive: true });
        try {
          await writeFile(config.HUB_KEY_FILE, pem, { mode: 0o600, flag: 'wx' });
        } catch (err) {
          if ((err as { code?: string }).code === 'EEXIST') {
            throw new UsageError(
              `${config.HUB_KEY_FILE} exists: refusing to replace the key exports are verified with`,
            );
          }
          throw err;
        }
        const keys = keysFromPrivate(createPrivateKey(pem));
        out(`created ${config.HUB_KEY_FILE} (key id ${keys.keyId}); public key:\n${keys.publicKeyPem}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`camhub hub: ${err.message} (${err.code})`);
      return 65;
    }
    throw err;
  }
}
