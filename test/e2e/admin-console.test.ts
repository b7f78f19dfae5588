import { type AuditEntry, type RegistryCamera, type SiteCameras, type UserItem } from '@camhub/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { useConsoleHub } from '../support/console-session.js';
import { makeHealth } from '../support/factories.js';
import { usePublisher } from '../support/hub-fixture.js';
import { uniqueToken } from '../support/ids.js';
import { publishJson } from '../support/mqtt.js';

// People and cameras administered from the console in Chromium, against the real hub (in this process, listening),
// PostgreSQL, Redis and Mosquitto: user editing (roles, sites, lock, password reset), a technician's camera page, a
// camera added by its address and its credentials changed. What the hub stored and audited is read back.
const SITE = `td-${uniqueToken().slice(0, 6)}`;
const OTHER = `cho-${uniqueToken().slice(0, 6)}`;

const stand = useConsoleHub();
const mqtt = usePublisher(stand);
let url: string;
let adminToken: string;

async function api<T>(path: string, init: RequestInit = {}, token = adminToken): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  return { status: res.status, body: (res.status === 204 ? null : await res.json()) as T };
}

async function loginStatus(username: string, password: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return res.status;
}

beforeAll(async () => {
  ({ url, adminToken } = stand);
  for (const [id, name, kind] of [
    [SITE, 'Tổ dân phố Đồng Tâm', 'residential_group'],
    [OTHER, 'Chợ Trường Sơn', 'market'],
  ] as const) {
    expect((await api('/sites', { method: 'POST', body: JSON.stringify({ id, name, kind }) })).status).toBe(201);
  }
  // The site's agent already reports one camera of its YAML.
  await publishJson(mqtt.pub, mqtt.topics.health(SITE, 'cong-chinh'), makeHealth({ site: SITE, camera: 'cong-chinh' }));
});

describe('administering people from the console', () => {
  it('creates a user, changes roles and sites, resets the password, locks and unlocks; each change audited', async () => {
    const { context, page, errors } = await stand.openAs('admin', stand.adminPassword);
    try {
      await page.goto(`${url}/#/admin/users`);
      const form = page.locator('form[aria-labelledby="user-form-title"]');
      await form.getByRole('heading', { name: 'Người dùng mới' }).waitFor();
      // Problems are named in Vietnamese before anything is sent.
      await form.getByLabel('Tên đăng nhập').fill('Lan Anh');
      await form.getByLabel('Mật khẩu').fill('ngan');
      await form.getByRole('button', { name: 'Tạo' }).click();
      const problems = page.getByTestId('user-problems');
      await problems.waitFor();
      expect(await problems.locator('li').allTextContents()).toEqual([
        expect.stringContaining('Tên đăng nhập: 2–64 ký tự'),
        'Mật khẩu cần ít nhất 12 ký tự.',
        'Chọn ít nhất một vai trò.',
      ]);
      const first = `pw-${uniqueToken()}`;
      await form.getByLabel('Tên đăng nhập').fill('lan.anh');
      await form.getByLabel('Mật khẩu').fill(first);
      await form.getByLabel('Trực ban').check();
      await form.getByLabel('Tổ dân phố Đồng Tâm').check();
      await form.getByRole('button', { name: 'Tạo' }).click();
      await page.getByRole('status').filter({ hasText: 'Đã tạo người dùng lan.anh.' }).waitFor();
      const row = page.locator('[data-testid="users"] tr[data-user="lan.anh"]');
      await row.filter({ hasText: 'Tổ dân phố Đồng Tâm' }).waitFor();
      expect(await loginStatus('lan.anh', first)).toBe(200);

      // Roles and sites changed, and a new password: the old one stops working.
      await row.getByRole('button', { name: 'Sửa' }).click();
      await form.getByRole('heading', { name: 'Sửa người dùng lan.anh' }).waitFor();
      await form.getByLabel('Kỹ thuật viên').check();
      await form.getByLabel('Chợ Trường Sơn').check();
      const second = `pw-${uniqueToken()}`;
      await form.getByLabel('Mật khẩu mới').fill(second);
      await form.getByRole('button', { name: 'Lưu' }).click();
      await page.getByRole('status').filter({ hasText: 'Đã lưu lan.anh và đặt lại mật khẩu' }).waitFor();
      await row.filter({ hasText: 'Trực ban, Kỹ thuật viên' }).filter({ hasText: 'Chợ Trường Sơn' }).waitFor();
      expect(await loginStatus('lan.anh', first)).toBe(401);
      expect(await loginStatus('lan.anh', second)).toBe(200);

      // Locked: no login; unlocked: back.
      await row.getByRole('button', { name: 'Khoá' }).click();
      await page.getByRole('status').filter({ hasText: 'Đã khoá lan.anh' }).waitFor();
      await row.filter({ hasText: 'Đã khoá' }).waitFor();
      expect(await loginStatus('lan.anh', second)).not.toBe(200);
      await row.getByRole('button', { name: 'Mở khoá' }).click();
      await page.getByRole('status').filter({ hasText: 'Đã mở khoá lan.anh.' }).waitFor();
      expect(await loginStatus('lan.anh', second)).toBe(200);

      const stored = (await api<UserItem>('/users/lan.anh')).body;
      expect(stored).toMatchObject({ roles: ['operator', 'technician'], sites: [SITE, OTHER], disabled: false });
      const audit = (await api<{ items: AuditEntry[] }>('/audit?action=user.')).body.items.filter(
        (a) => a.target === 'lan.anh',
      );
      expect(audit.map((a) => a.action).reverse()).toEqual([
        'user.create',
        'user.update',
        'user.update',
        'user.update',
      ]);
      const changes = audit.map((a) => a.detail).reverse();
      expect(changes[1]).toMatchObject({
        roles: { from: ['operator'], to: ['operator', 'technician'] },
        passwordChanged: true,
      });
      expect(changes[2]).toEqual({ disabled: true });
      expect(changes[3]).toEqual({ disabled: false });
      expect(JSON.stringify(audit)).not.toContain(second);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("refuses to lock the last admin, in the user's words", async () => {
    const { context, page } = await stand.openAs('admin', stand.adminPassword);
    try {
      await page.goto(`${url}/#/admin/users`);
      await page.locator('[data-testid="users"] tr[data-user="admin"]').getByRole('button', { name: 'Khoá' }).click();
      await page.getByRole('alert').filter({ hasText: 'Đây là quản trị viên cuối cùng còn hoạt động' }).waitFor();
      expect((await api<UserItem>('/users/admin')).body.disabled).toBe(false);
    } finally {
      await context.close();
    }
  });
});

describe('cameras from the console', () => {
  it("opens the cameras page to a site's technician, who adds a camera by its address and changes its password", async () => {
    const password = `pw-${uniqueToken()}`;
    expect(
      (
        await api('/users', {
          method: 'POST',
          body: JSON.stringify({ username: 'ky.thuat', password, roles: ['technician'], sites: [SITE] }),
        })
      ).status,
    ).toBe(201);
    const { context, page, errors } = await stand.openAs('ky.thuat', password);
    try {
      const nav = await page.locator('header.top nav a').allTextContents();
      expect(nav).toEqual(['Tình trạng camera', 'Quản trị']);
      await page.goto(`${url}/#/admin/cameras`);
      // Of administration, the cameras registry only.
      expect(await page.locator('nav.tabs a').allTextContents()).toEqual(['Camera']);
      await page.locator('[data-testid="camera-registry"] tr[data-camera="cong-chinh"]').waitFor();
      expect(await page.locator('[data-testid="cameras-site"] option').allTextContents()).toEqual([
        'Tổ dân phố Đồng Tâm',
      ]);

      await page.getByRole('button', { name: 'Thêm camera theo địa chỉ' }).click();
      const form = page.locator('form[aria-labelledby="adopt-title"]');
      await form.getByRole('heading', { name: 'Thêm camera theo địa chỉ' }).waitFor();
      await form.getByLabel('Mã camera').fill('ngo-12');
      await form.getByLabel('Tên camera').fill('Ngõ 12');
      await form.getByLabel('Vị trí').fill('Cột điện số 3');
      // A web address where the host goes, and no password: the console names both in Vietnamese and sends nothing.
      await form.getByLabel('Địa chỉ IP hoặc tên máy').fill('http://10.20.0.64/onvif');
      await form.getByLabel('Cổng ONVIF').fill('8080');
      await form.getByLabel('Tên đăng nhập camera').fill('onvif');
      await form.getByRole('button', { name: 'Thêm camera' }).click();
      const problems = form.locator('[data-testid="camera-problems"]');
      await problems.waitFor();
      expect(await problems.locator('li').allTextContents()).toEqual([
        'Nhập địa chỉ IP hoặc tên máy của camera, ví dụ 192.168.1.64 (không có khoảng trắng, "http://" hay "/").',
        'Nhập mật khẩu camera.',
      ]);
      expect((await api<SiteCameras>(`/sites/${SITE}/cameras`)).body.version).toBeNull();
      await form.getByLabel('Địa chỉ IP hoặc tên máy').fill('10.20.0.64');
      await form.getByLabel('Mật khẩu camera').fill('mat-khau-cu');
      await form.getByRole('button', { name: 'Thêm camera' }).click();
      await page.getByRole('status').filter({ hasText: 'Đã nhận Ngõ 12' }).waitFor();
      const row = page.locator('[data-testid="camera-registry"] tr[data-camera="ngo-12"]');
      await row.filter({ hasText: 'Nhận qua bảng điều khiển' }).waitFor();

      await row.getByRole('button', { name: 'Sửa' }).click();
      const edit = page.locator('form[aria-labelledby="camera-edit-title"]');
      expect(await edit.getByLabel('Địa chỉ IP hoặc tên máy').inputValue()).toBe('10.20.0.64');
      expect(await edit.getByLabel('Mật khẩu camera mới').inputValue()).toBe('');
      await edit.getByLabel('Cổng ONVIF').fill('80');
      await edit.getByLabel('Mật khẩu camera mới').fill('mat-khau-moi');
      await edit.getByRole('button', { name: 'Lưu' }).click();
      await page.getByRole('status').filter({ hasText: 'Đã lưu Ngõ 12.' }).waitFor();

      const registry = (await api<SiteCameras>(`/sites/${SITE}/cameras`)).body;
      const added = registry.cameras.find((c: RegistryCamera) => c.camera === 'ngo-12');
      expect(added).toMatchObject({
        name: 'Ngõ 12',
        adopted: true,
        host: '10.20.0.64',
        port: 80,
        username: 'onvif',
        passwordSet: true,
        endpoint: null,
      });
      expect(JSON.stringify(registry)).not.toContain('mat-khau');
      // The site's configuration for its agent grew with each change: added, then the new connection.
      expect(registry.version).toBe(2);
      const audit = (await api<{ items: AuditEntry[] }>('/audit?action=camera.')).body.items;
      expect(audit.map((a) => `${a.actor} ${a.action} ${a.target}`).reverse()).toEqual([
        `ky.thuat camera.adopt ${SITE}/ngo-12`,
        `ky.thuat camera.update ${SITE}/ngo-12`,
      ]);
      expect(audit[0]!.detail).toMatchObject({ port: 80, passwordChanged: true });
      expect(JSON.stringify(audit)).not.toContain('mat-khau');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
