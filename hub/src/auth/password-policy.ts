import { BadRequestError } from '../errors.js';

export const PASSWORD_MIN_LENGTH = 12;

/**
 * Words that whole passwords are commonly built from (breach corpora's most frequent bases), and the product's own
 * names and documented examples: a password that is one of them, or one of them with digits and symbols around it
 * ("Password2026!", "camhub-123456"), is refused whatever its length.
 */
const COMMON_BASES = new Set(
  `password passw0rd p@ssw0rd qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm azerty letmein welcome iloveyou admin
  administrator root toor changeme change-me change-me-now secret master dragon monkey football baseball sunshine
  princess shadow superman batman trustno1 whatever freedom starwars pokemon hello abc abcdef abcdefgh abc123 login
  default guest test tester user camera cameras camhub camhub-demo hikvision dahua onvif security surveillance
  matkhau matkhau123 vietnam hanoi saigon`
    .split(/\s+/)
    .filter(Boolean),
);

/** Runs of the keyboard or the digits, forwards or backwards, that people lengthen a password with. */
const SEQUENCES = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1q2w3e4r5t6y7u8i9o0p',
];

export type PasswordProblem = 'password_too_short' | 'password_too_common';

/** Why a new password is refused, or null. Login never checks this: old passwords keep working until changed. */
export function passwordProblem(password: string): PasswordProblem | null {
  if ([...password.normalize('NFKC')].length < PASSWORD_MIN_LENGTH) return 'password_too_short';
  const lower = password.normalize('NFKC').toLowerCase();
  const core = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  if (COMMON_BASES.has(lower) || COMMON_BASES.has(core)) return 'password_too_common';
  // A single repeated character or a bare sequence ("aaaaaaaaaaaa", "123456789012").
  if (new Set(lower).size <= 2) return 'password_too_common';
  const alnum = lower.replace(/[^a-z0-9]/g, '');
  for (const seq of SEQUENCES) {
    for (const s of [seq.repeat(3), [...seq.repeat(3)].reverse().join('')]) {
      if (alnum.length >= 6 && s.includes(alnum)) return 'password_too_common';
    }
  }
  return null;
}

export class WeakPasswordError extends BadRequestError {
  constructor(readonly problem: PasswordProblem) {
    super(
      problem,
      problem === 'password_too_short'
        ? `the password must have at least ${PASSWORD_MIN_LENGTH} characters`
        : 'the password is too common; choose a longer passphrase',
    );
  }
}

/** Throws WeakPasswordError for a password the policy refuses. */
export function assertPasswordPolicy(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new WeakPasswordError(problem);
}

/** Names that would pass for the system or a role in audit and alert history. */
export const RESERVED_USERNAMES = new Set([
  'system',
  'root',
  'anonymous',
  'unknown',
  'cli',
  'agent',
  'camhub',
  'hub',
  'retention',
  'scheduler',
  'null',
  'undefined',
  'api',
  'operator',
  'technician',
  'police',
  'support',
]);
