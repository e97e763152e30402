/**
 * The state database's versioned migrations, applied in order by `migrate()`. Each module that keeps tables adds a
 * file here (`NNNN-<name>.ts` exporting one `Migration`) and appends it to the list; a version, once released, is
 * never edited: change a table with a new migration.
 */
import type { Migration } from '../migrate.js';
import { positions } from './0001-positions.js';
import { webhooks } from './0002-webhooks.js';

export const MIGRATIONS: readonly Migration[] = [positions, webhooks];
