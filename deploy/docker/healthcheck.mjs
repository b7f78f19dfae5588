// Container health probe: exits 0 when the process answers GET <path> (default /readyz) with a 2xx status
// within the timeout, 1 otherwise. Plain JavaScript with Node built-ins only, so it starts in milliseconds
// and needs neither tsx nor curl in the image.
//
//   node deploy/docker/healthcheck.mjs [path]
// Environment: PORT (8080), HEALTHCHECK_HOST (127.0.0.1), HEALTHCHECK_TIMEOUT_MS (4000).
const port = process.env.PORT || '8080';
const host = process.env.HEALTHCHECK_HOST || '127.0.0.1';
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 4000);
const path = process.argv[2] || '/readyz';
const url = `http://${host}:${port}${path}`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    // The body says which dependency is down; Docker keeps it in `docker inspect` health logs.
    const body = (await res.text()).slice(0, 500);
    console.error(`${url}: HTTP ${res.status} ${body}`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  console.error(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
