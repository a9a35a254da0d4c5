// Forward-only migrations, applied in name order. Never edit one that has shipped: add a new one.
import type { Migration } from 'kysely';
import * as m0001 from './0001-instance.js';

export const migrations: Record<string, Migration> = {
  '0001-instance': m0001,
};
