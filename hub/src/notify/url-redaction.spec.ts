import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { redactUrl, restoreRedactedUrl } from './url-redaction.js';

describe(restoreRedactedUrl.name, () => {
  const stored = 'https://bob:hunter2@hooks.example/a?x=1';

  it('gives back the stored password when the redacted URL comes back unchanged or with a new path', () => {
    expect(restoreRedactedUrl(redactUrl(stored), stored)).toBe(stored);
    expect(restoreRedactedUrl('https://bob:redacted@hooks.example/b', stored)).toBe(
      'https://bob:hunter2@hooks.example/b',
    );
  });

  it('takes a new password, or a URL without one, as given', () => {
    expect(restoreRedactedUrl('https://bob:new-pass@hooks.example/a', stored)).toBe(
      'https://bob:new-pass@hooks.example/a',
    );
    expect(restoreRedactedUrl('https://hooks.example/a', stored)).toBe('https://hooks.example/a');
    expect(restoreRedactedUrl('https://bob:redacted@hooks.example/a', 'https://hooks.example/a')).toBe(
      'https://bob:redacted@hooks.example/a',
    );
  });

  it('refuses the marker aimed at another host or user', () => {
    for (const url of ['https://bob:redacted@evil.example/a', 'https://eve:redacted@hooks.example/a']) {
      expect(() => restoreRedactedUrl(url, stored)).toThrow(AppError);
    }
  });
});
