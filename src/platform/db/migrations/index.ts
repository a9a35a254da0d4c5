// Forward-only migrations, applied in name order. Never edit one that has shipped: add a new one.
import type { Migration } from 'kysely';
import * as m0001 from './0001-instance.js';
import * as m0002 from './0002-beat.js';
import * as m0003 from './0003-auth.js';
import * as m0004 from './0004-beat-run-key.js';
import * as m0005 from './0005-login-counters.js';
import * as m0006 from './0006-secrets.js';

export const migrations: Record<string, Migration> = {
  '0001-instance': m0001,
  '0002-beat': m0002,
  '0003-auth': m0003,
  '0004-beat-run-key': m0004,
  '0005-login-counters': m0005,
  '0006-secrets': m0006,
};
