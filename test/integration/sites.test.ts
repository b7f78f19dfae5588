import type { Site } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, createUser } from '../support/auth.js';
import { useTestHub } from '../support/hub-fixture.js';

let hub: FastifyInstance;
let admin: { authorization: string };

// SITE_TIME_ZONES is the bootstrap: the listed site is registered at start, named by its id.
const fixture = useTestHub({ SITE_TIME_ZONES: 'seeded-site=Asia/Bangkok' });
beforeAll(async () => {
  ({ hub } = fixture);
  admin = await authHeaders(hub, 'admin');
});

const sites = async (headers: { authorization: string }) => {
  const res = await hub.inject({ method: 'GET', url: '/api/v1/sites', headers });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { items: Site[] }).items;
};

describe('sites registry', () => {
  it('seeds the sites SITE_TIME_ZONES lists, with their zone', async () => {
    const seeded = (await sites(admin)).find((s) => s.id === 'seeded-site');
    expect(seeded).toMatchObject({ registered: true, name: 'seeded-site', timeZone: 'Asia/Bangkok', active: true });
  });

  it('an admin registers a unit with its Vietnamese name, kind, contact and zone; every change is audited', async () => {
    const res = await hub.inject({
      method: 'POST',
      url: '/api/v1/sites',
      headers: admin,
      payload: {
        id: 'td-dong-tam',
        name: 'Tổ dân phố Đồng Tâm',
        kind: 'residential_group',
        address: 'Thị trấn Trường Sơn, An Lão, Hải Phòng',
        contactName: 'Nguyễn Văn An',
        contactPhone: '0912 345 678',
        joinedOn: '2025-03-01',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      id: 'td-dong-tam',
      registered: true,
      name: 'Tổ dân phố Đồng Tâm',
      kind: 'residential_group',
      timeZone: 'Asia/Ho_Chi_Minh',
      joinedOn: '2025-03-01',
      cameras: { total: 0 },
    });

    const patched = await hub.inject({
      method: 'PATCH',
      url: '/api/v1/sites/td-dong-tam',
      headers: admin,
      payload: { active: false, notes: 'Tạm ngừng', joinedOn: null },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      active: false,
      notes: 'Tạm ngừng',
      joinedOn: null,
      name: 'Tổ dân phố Đồng Tâm',
    });

    const audit = await hub.inject({ method: 'GET', url: '/api/v1/audit?limit=50', headers: admin });
    const actions = (audit.json() as { items: { action: string; target: string | null }[] }).items
      .filter((e) => e.target === 'td-dong-tam')
      .map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['site.create', 'site.update']));
  });

  it('lists a site the hub only heard from as unregistered, with its cameras counted by status', async () => {
    // As the ingest path leaves it when a camera of an unregistered site reports.
    await hub.pg.query(`INSERT INTO cameras (site, camera, status) VALUES ('heard-only', 'cam-1', 'online')`);
    const heard = (await sites(admin)).find((s) => s.id === 'heard-only');
    expect(heard).toMatchObject({ registered: false, name: null, cameras: { total: 1 } });
  });

  it('refuses what is wrong with a machine code and keeps nothing', async () => {
    const bad = await hub.inject({
      method: 'POST',
      url: '/api/v1/sites',
      headers: admin,
      payload: { id: 'tz-bad', name: 'X', kind: 'school', timeZone: 'Mars/Olympus' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_time_zone' } });
    const dup = await hub.inject({
      method: 'POST',
      url: '/api/v1/sites',
      headers: admin,
      payload: { id: 'seeded-site', name: 'Again', kind: 'school' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ error: { code: 'site_exists' } });
    expect((await sites(admin)).some((s) => s.id === 'tz-bad')).toBe(false);
  });

  it('a site-limited admin sees and edits its own sites only; other roles only read', async () => {
    const limited = await createUser(hub, ['admin'], { sites: ['seeded-site'] });
    expect((await sites(limited.headers)).map((s) => s.id)).toEqual(['seeded-site']);
    const other = await hub.inject({
      method: 'PATCH',
      url: '/api/v1/sites/td-dong-tam',
      headers: limited.headers,
      payload: { name: 'Hijacked' },
    });
    expect(other.statusCode).toBe(404);
    const create = await hub.inject({
      method: 'POST',
      url: '/api/v1/sites',
      headers: limited.headers,
      payload: { id: 'new-elsewhere', name: 'Elsewhere', kind: 'market' },
    });
    expect(create.statusCode).toBe(403);
    const own = await hub.inject({
      method: 'PATCH',
      url: '/api/v1/sites/seeded-site',
      headers: limited.headers,
      payload: { name: 'Chợ Trường Sơn', kind: 'market' },
    });
    expect(own.statusCode, own.body).toBe(200);

    const operator = await authHeaders(hub, 'operator');
    expect((await sites(operator)).find((s) => s.id === 'seeded-site')?.name).toBe('Chợ Trường Sơn');
    const refused = await hub.inject({
      method: 'PATCH',
      url: '/api/v1/sites/seeded-site',
      headers: operator,
      payload: { name: 'No' },
    });
    expect(refused.statusCode).toBe(403);
  });

  it('alert schedules follow the time zone set in the registry', async () => {
    await hub.inject({
      method: 'PATCH',
      url: '/api/v1/sites/seeded-site',
      headers: admin,
      payload: { timeZone: 'Asia/Tokyo' },
    });
    expect(hub.container.services.sites.timeZoneOf('seeded-site')).toBe('Asia/Tokyo');
    expect(hub.container.services.sites.nameOf('seeded-site')).toBe('Chợ Trường Sơn');
    expect(hub.container.services.sites.timeZoneOf('never-registered')).toBe('Asia/Ho_Chi_Minh');
  });
});
