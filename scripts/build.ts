/**
 * `npm run build`: what releases run. The hub's two entry points and the edge agent's one, bundled by esbuild into
 * plain ES modules that `node` runs without a transpiler, and the web console built by vite.
 *
 *   hub/src/server.ts, hub/src/cli.ts  ->  hub/dist/server.js, hub/dist/cli.js (+ shared chunks in hub/dist)
 *   hub/console                        ->  hub/console/dist (vite build, hub/console/vite.config.ts)
 *   edge-agent/src/main.ts             ->  edge-agent/dist/main.js
 *
 * `tsx scripts/build.ts hub` or `… edge-agent` builds one package (each image's build stage builds its own).
 *
 * Our own code (hub, edge-agent, @camhub/shared) is bundled; every npm dependency stays external and is loaded
 * from node_modules (`npm ci --omit=dev`), because several of them read files next to their own code at run time
 * (@fastify/swagger-ui's static assets, optional native msgpackr-extract).
 *
 * Every output file sits directly in <package>/dist, one level below the package folder like <package>/src, so a
 * path resolved from import.meta.url relative to a module directly in src (hub/src/paths.ts, edge-agent/src/
 * version.ts) means the same folder in the sources and in the bundle.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bare imports of npm packages stay imports; only our workspace packages (@camhub/*) are bundled. */
const dependenciesExternal: Plugin = {
  name: 'dependencies-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@camhub/') || args.kind === 'entry-point') return undefined;
      return { path: args.path, external: true };
    });
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The images run Node 22; the root package.json allows Node 20.19+ for development.
  target: 'node20.19',
  // Split chunks hold the modules both hub entries use, so cli.js and server.js share one copy of each (an error
  // class thrown in one is the class the other catches) and server.ts's own code stays in server.js, where its
  // "am I the main module" check compares with process.argv[1].
  splitting: true,
  chunkNames: '[name]-[hash]',
  // Readable stack traces: no minification, original function and class names kept.
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  plugins: [dependenciesExternal],
};

const targets = [
  { name: 'hub', out: 'hub/dist', entries: ['hub/src/server.ts', 'hub/src/cli.ts'], console: 'hub/console' },
  { name: 'edge-agent', out: 'edge-agent/dist', entries: ['edge-agent/src/main.ts'] },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !targets.some((t) => t.name === w));
if (unknown.length) {
  console.error(`unknown target(s) ${unknown.join(', ')}; usage: tsx scripts/build.ts [hub] [edge-agent]`);
  process.exit(2);
}

const started = Date.now();
for (const { name, out, entries, console: consoleRoot } of targets) {
  if (wanted.length && !wanted.includes(name)) continue;
  rmSync(join(ROOT, out), { recursive: true, force: true });
  const result = await build({
    ...common,
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir: out,
    metafile: true,
  });
  const files = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
  const bytes = files.reduce((sum, [, o]) => sum + o.bytes, 0);
  console.log(`${out}: ${files.length} file(s), ${(bytes / 1024).toFixed(0)} KiB`);
  if (consoleRoot) {
    // Imported only here: vite is a build tool, and the agent's image builds without it.
    const vite = await import('vite');
    await vite.build({ root: join(ROOT, consoleRoot), logLevel: 'warn' });
    console.log(`${consoleRoot}/dist: built`);
  }
}
console.log(`built in ${Date.now() - started} ms`);
