import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { User } from './api.js';
import type { LiveFeed } from './live.js';

export interface ConsoleContext {
  user: User;
  live: LiveFeed;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('useConsole outside the signed-in console');
  return c;
}
