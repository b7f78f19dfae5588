import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The hub package's folder (hub/ in the repository and in a release). This module sits directly in hub/src, and
 * the release bundles sit directly in hub/dist (scripts/build.ts), so `..` from here is that folder in both: keep
 * this file where it is, and resolve every file the hub reads from its own package from here.
 */
export const HUB_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The SQL migrations, read at start. */
export const MIGRATIONS_DIR = join(HUB_DIR, 'migrations');

/** Where `npm run console:build` puts the web console. */
export const CONSOLE_DIST = join(HUB_DIR, 'console', 'dist');
