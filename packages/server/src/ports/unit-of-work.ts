import type { Repositories } from './repositories.js';

/**
 * Runs work against the store. `write` hands the same transaction to every repository,
 * so a change, its history and whatever it enqueues commit together or not at all.
 */
export interface UnitOfWork {
  read<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  write<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
}

export interface Store extends UnitOfWork {
  readonly dialect: 'sqlite' | 'postgres';
  /** Refreshes the planner's statistics (after bulk loads). */
  optimize(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
