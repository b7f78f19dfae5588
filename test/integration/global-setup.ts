import { ensureTemplate } from '../support/db.js';

/** Runs once per vitest run: migrate the template database every test file clones. */
export default async function setup() {
  await ensureTemplate();
}
