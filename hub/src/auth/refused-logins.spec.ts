import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditActor, AuditRecord, AuditService } from '../audit/audit.service.js';
import { createRefusedLoginLog } from './refused-logins.js';

function fakeAudit() {
  const rows: { who: AuditActor; what: AuditRecord }[] = [];
  const audit = {
    record: async (who: AuditActor, what: AuditRecord) => {
      rows.push({ who, what });
      return {} as never;
    },
  } as unknown as AuditService;
  return { rows, audit };
}

describe(createRefusedLoginLog.name, () => {
  afterEach(() => vi.useRealTimers());

  it('records the first refusal of an IP at once and sums the rest of its window into one entry', async () => {
    vi.useFakeTimers({ now: 0 });
    const { rows, audit } = fakeAudit();
    const log = createRefusedLoginLog({ audit, windowSec: 60, onError: (e) => expect.fail(e.message) });
    for (let i = 0; i < 100; i++) await log.refused('10.0.0.1', `user-${i % 30}`, i % 2 ? 'bad_password' : 'ip');
    await log.refused('10.0.0.2', 'other', 'unknown_user');
    expect(rows.map((r) => [r.what.action, r.who.ip])).toEqual([
      ['auth.login_failed', '10.0.0.1'],
      ['auth.login_failed', '10.0.0.2'],
    ]);
    // The timer writes the summary once the window has passed, without another refusal to trigger it.
    await vi.advanceTimersByTimeAsync(65_000);
    const summary = rows.find((r) => r.what.action === 'auth.login_refused' && r.who.ip === '10.0.0.1')!;
    expect(summary.who.actor).toBeNull();
    expect(summary.what.detail).toMatchObject({ count: 99, reasons: { ip: 49, bad_password: 50 } });
    expect((summary.what.detail!.usernames as string[]).length).toBe(20);
    // 10.0.0.2 had nothing after its first: no empty summary.
    expect(rows.filter((r) => r.who.ip === '10.0.0.2')).toHaveLength(1);
    // A new window starts with a fresh immediate entry.
    await log.refused('10.0.0.1', 'again', 'bad_password');
    expect(rows[rows.length - 1]!.what).toMatchObject({ action: 'auth.login_failed', target: 'again' });
    await log.close();
  });

  it('writes what is pending when closed', async () => {
    const { rows, audit } = fakeAudit();
    const log = createRefusedLoginLog({ audit, windowSec: 3600, onError: (e) => expect.fail(e.message) });
    await log.refused('10.0.0.3', 'a', 'bad_password');
    await log.refused('10.0.0.3', 'b', 'bad_password');
    await log.close();
    expect(rows.map((r) => r.what.action)).toEqual(['auth.login_failed', 'auth.login_refused']);
    expect(rows[1]!.what.detail).toMatchObject({ count: 1, usernames: ['b'] });
  });
});
