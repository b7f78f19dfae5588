import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { CONSOLE_DIST } from '../paths.js';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>camhub</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>camhub</h1>
<p lang="vi">Giao diện web chưa được build. Chạy <code>npm run console:build</code> rồi khởi động lại hub.</p>
<p lang="en">The web console is not built. Run <code>npm run console:build</code>, then restart the hub.</p>
<p>API: <a href="/docs">/docs</a></p>
</body></html>`;

export interface ConsolePluginOptions {
  /** The built console (default: hub/console/dist). */
  root?: string;
}

/**
 * Serves the web console at `/`. index.html is revalidated on every load (it names the current bundle); the hashed
 * files under /assets never change, so browsers keep them for a year. Everything is local: the console works offline.
 */
export default fp(
  async (app: FastifyInstance, opts: ConsolePluginOptions) => {
    const root = opts.root ?? CONSOLE_DIST;
    if (!existsSync(join(root, 'index.html'))) {
      app.log.warn({ root }, 'web console not built: run `npm run console:build` (serving a placeholder page at /)');
      app.get('/', { config: { access: { roles: 'public' } }, schema: { hide: true } }, async (_req, reply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT_PAGE),
      );
      return;
    }
    await app.register(async (scope) => {
      // The console's files are public (the API behind them is not); @fastify/static takes no route config itself.
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: { roles: 'public' } };
      });
      await scope.register(fastifyStatic, {
        root,
        prefix: '/',
        index: ['index.html'],
        wildcard: true,
        cacheControl: false,
        etag: true,
        lastModified: true,
        setHeaders(reply, path) {
          const immutable = path.startsWith(join(root, 'assets'));
          reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
          // The console never needs to be framed by another site.
          reply.header('x-frame-options', 'DENY');
          reply.header('x-content-type-options', 'nosniff');
        },
      });
    });
  },
  { name: 'console' },
);
