import { describe, expect, it } from 'vitest';
import { commandErrors, commandTopic, decodeCommand, type LiveStartCommand } from './video.js';

const start: LiveStartCommand = {
  v: 1,
  id: '01936b7e-8c1a-7c35-9f0e-3b1d2a4c5e6f',
  site: 'td-01',
  kind: 'live.start',
  at: '2026-11-22T14:05:09.120Z',
  camera: 'cam-03',
  profile: 'sub',
  stream: 'AbCdEfGhIjKlMnOpQrSt',
};
const raw = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('commands', () => {
  it('builds the per-site command topic and refuses bad identifiers', () => {
    expect(commandTopic('td-01')).toBe('camhub/v1/td-01/commands');
    expect(commandTopic('td-01', 'test/x/')).toBe('test/x/td-01/commands');
    expect(() => commandTopic('TD 01')).toThrow(/not a valid identifier/);
  });

  it('decodes a known command', () => {
    expect(decodeCommand(raw(start), 'td-01')).toEqual({ ok: true, command: start });
    expect(commandErrors(start)).toBeNull();
  });

  it('ignores a well-formed command of an unknown kind (a newer hub), with its kind', () => {
    const future = { ...start, kind: 'ptz.move', pan: 0.5 };
    expect(decodeCommand(raw(future), 'td-01')).toEqual({ ok: 'ignored', kind: 'ptz.move' });
  });

  it('refuses malformed commands with the reason', () => {
    expect(decodeCommand(raw('nope'), 'td-01')).toMatchObject({ ok: false, detail: /not JSON/ });
    expect(decodeCommand(raw({ ...start, v: 2 }), 'td-01')).toMatchObject({ ok: false, detail: /\/v/ });
    expect(decodeCommand(raw({ ...start, stream: 'short' }), 'td-01')).toMatchObject({ ok: false, detail: /stream/ });
    expect(decodeCommand(raw({ ...start, profile: 'hd' }), 'td-01')).toMatchObject({ ok: false, detail: /profile/ });
    expect(decodeCommand(raw({ ...start, at: '0000-00-00T00:00:00Z' }), 'td-01')).toMatchObject({ ok: false });
    expect(decodeCommand(raw(start), 'td-02')).toMatchObject({ ok: false, detail: /not "td-02"/ });
    expect(commandErrors({ ...start, camera: 'Bad Camera' })).toMatch(/camera/);
  });
});
