import { uuidv7 } from 'uuidv7';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface Ids {
  /** A new, time-ordered, globally unique id (UUIDv7). */
  uid(): string;
}

export const systemClock: Clock = { now: () => Date.now() };
export const uuidIds: Ids = { uid: () => uuidv7() };
