import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { authHeaders } from '../support/auth.js';
import { useTestHub } from '../support/hub-fixture.js';

let hub: FastifyInstance;

const fixture = useTestHub();
beforeAll(async () => {
  ({ hub } = fixture);
});

const scrape = async () => {
  const res = await hub.inject('/metrics');
  expect(res.statusCode).toBe(200);
  return res.body;
};
/** The value of one series (name and exact label set as Prometheus prints it), or undefined. */
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics', () => {
  it("uses the Node.js client's standard process and runtime names, as stock dashboards expect", async () => {
    const text = await scrape();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_version_info',
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).not.toContain('camhub_process_');
  });

  it('times HTTP requests by route template, method and status class', async () => {
    const headers = await authHeaders(hub);
    await hub.inject({ method: 'GET', url: '/api/v1/cameras/m-site/nope/health', headers });
    await hub.inject({ method: 'GET', url: '/api/v1/cameras/m-site/other/health', headers });
    await hub.inject({ method: 'GET', url: '/api/v1/cameras', headers });
    await hub.inject({ method: 'GET', url: '/no/such/route' });
    const text = await scrape();
    const series = (route: string, status: string) =>
      `http_request_duration_seconds_count{method="GET",route="${route}",status_class="${status}"}`;
    // One series for both cameras: the template, never the concrete path (bounded label values).
    expect(value(text, series('/api/v1/cameras/:site/:camera/health', '4xx'))).toBe(2);
    expect(value(text, series('/api/v1/cameras', '2xx'))).toBe(1);
    expect(value(text, series('unmatched', '4xx'))).toBe(1);
    expect(text).not.toContain('m-site');
    expect(text).not.toContain('/no/such/route');
    expect(text).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
  });

  it('counts cameras by status, zero included', async () => {
    await hub.pg.query(
      `INSERT INTO cameras (site, camera, status) VALUES
         ('m-site', 'cam-1', 'online'), ('m-site', 'cam-2', 'online'), ('m-site', 'cam-3', 'offline')`,
    );
    const text = await scrape();
    expect(value(text, 'camhub_cameras{status="online"}')).toBe(2);
    expect(value(text, 'camhub_cameras{status="offline"}')).toBe(1);
    expect(value(text, 'camhub_cameras{status="degraded"}')).toBe(0);
    expect(value(text, 'camhub_cameras{status="unknown"}')).toBe(0);
  });
});
