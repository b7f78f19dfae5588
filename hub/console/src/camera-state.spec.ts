import { describe, expect, it } from 'vitest';
import { measuring, shownStatus } from './camera-state.js';

describe('a camera as the console shows it', () => {
  it('shows a camera switched off in the registry as switched off, whatever its last measured status', () => {
    expect(shownStatus({ status: 'online', enabled: false })).toBe('disabled');
    expect(shownStatus({ status: 'offline', enabled: false })).toBe('disabled');
    expect(shownStatus({ status: 'degraded', enabled: true })).toBe('degraded');
  });
  it('shows no figures for a camera nobody measures', () => {
    expect(measuring({ status: 'online', enabled: false })).toBe(false);
    expect(measuring({ status: 'online', enabled: true })).toBe(true);
    expect(measuring({ status: 'offline', enabled: true })).toBe(false);
  });
});
