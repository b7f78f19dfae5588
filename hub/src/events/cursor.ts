import { isValidIsoTime, UUID_PATTERN } from '@camhub/shared';
import { BadRequestError } from '../errors.js';

/** Keyset position in (at DESC, id DESC) order. Opaque to clients: base64url of "at|id". */
export interface EventCursor {
  at: string;
  id: string;
}

const uuid = new RegExp(UUID_PATTERN);

export function encodeCursor(c: EventCursor): string {
  return Buffer.from(`${c.at}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): EventCursor {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const [at, id, ...rest] = text.split('|');
  if (rest.length > 0 || !at || !id || !isValidIsoTime(at) || !uuid.test(id)) {
    throw new BadRequestError('invalid_cursor', 'cursor is not one this API issued');
  }
  return { at, id };
}
