import type { Config } from '@dropwatch/core';
import type { EntityManager } from '@dropwatch/db';

export interface AuthUser {
  readonly id: string;
  readonly name: string;
  readonly role: 'user' | 'admin';
}

export interface Context {
  readonly em: EntityManager;
  readonly config: Config;
  readonly user: AuthUser | null;
}

/** Pure: tests and internal callers build a context without HTTP. */
export function createContextInner(opts: { em: EntityManager; config: Config; user?: AuthUser | null }): Context {
  return { em: opts.em, config: opts.config, user: opts.user ?? null };
}
