import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The console: a static bundle the hub serves from hub/console/dist (no CDN: fonts and icons are our own). */
export default defineConfig({
  root,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npx vite hub/console` for UI work against a hub on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
