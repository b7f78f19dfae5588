import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.js';

describe(passwordProblem.name, () => {
  it('refuses short passwords (12345678 was accepted before issue 19)', () => {
    expect(passwordProblem('12345678')).toBe('password_too_short');
    expect(passwordProblem('abc-def-ghi')).toBe('password_too_short');
  });

  it('refuses common passwords however they are lengthened', () => {
    for (const p of [
      'password1234',
      'Password2026!',
      'change-me-now',
      'camhub-123456',
      '123456789012',
      'qwertyuiop12',
      'aaaaaaaaaaaa',
      '1q2w3e4r5t6y',
      '098765432109',
    ]) {
      expect(passwordProblem(p), p).toBe('password_too_common');
    }
  });

  it('accepts real passphrases, the test fixtures among them', () => {
    for (const p of ['correct horse battery', 'test-admin-password', 'camhub-demo-local', 'alerts-test-admin-pw']) {
      expect(passwordProblem(p), p).toBeNull();
    }
  });
});
