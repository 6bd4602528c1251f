import type { Migration, MigrationProvider } from 'kysely';
import * as pg0001 from './postgres/0001-foundation.js';
import * as pg0002imports from './postgres/0002-imports.js';
import * as pg0003segments from './postgres/0003-segments.js';
import * as pg0004forms from './postgres/0004-forms.js';
import * as pg0005campaigns from './postgres/0005-campaigns.js';
import * as pg0008users from './postgres/0008-users.js';
import * as pg0009formRequests from './postgres/0009-form-requests.js';
import * as pg0010catchUp from './postgres/0010-foundation-catch-up.js';
import * as pg0011sendingProgress from './postgres/0011-sending-progress.js';
import * as pg0012queueApplied from './postgres/0012-queue-applied.js';
import * as pg0013spentTokens from './postgres/0013-spent-form-tokens.js';
import * as pg0015erasureWordings from './postgres/0015-erasure-wordings.js';
import * as pg0016messageRemoval from './postgres/0016-message-removal.js';
import * as pg0017defaultForms from './postgres/0017-default-forms.js';
import * as pg0018webhooks from './postgres/0018-webhooks.js';
import * as pg0020sendingSchedule from './postgres/0020-sending-schedule.js';
import * as pg0021sendingExclusions from './postgres/0021-sending-exclusions.js';
import * as pg0022eventsPartitions from './postgres/0022-events-partitions.js';
import * as sqlite0001 from './sqlite/0001-foundation.js';
import * as sqlite0002imports from './sqlite/0002-imports.js';
import * as sqlite0003segments from './sqlite/0003-segments.js';
import * as sqlite0004forms from './sqlite/0004-forms.js';
import * as sqlite0005campaigns from './sqlite/0005-campaigns.js';
import * as sqlite0008users from './sqlite/0008-users.js';
import * as sqlite0009formRequests from './sqlite/0009-form-requests.js';
import * as sqlite0010catchUp from './sqlite/0010-foundation-catch-up.js';
import * as sqlite0011sendingProgress from './sqlite/0011-sending-progress.js';
import * as sqlite0012queueApplied from './sqlite/0012-queue-applied.js';
import * as sqlite0013spentTokens from './sqlite/0013-spent-form-tokens.js';
import * as sqlite0015erasureWordings from './sqlite/0015-erasure-wordings.js';
import * as sqlite0016messageRemoval from './sqlite/0016-message-removal.js';
import * as sqlite0017defaultForms from './sqlite/0017-default-forms.js';
import * as sqlite0018webhooks from './sqlite/0018-webhooks.js';
import * as sqlite0020sendingSchedule from './sqlite/0020-sending-schedule.js';
import * as sqlite0021sendingExclusions from './sqlite/0021-sending-exclusions.js';
import * as sqlite0022eventsPartitions from './sqlite/0022-events-partitions.js';

export type Dialect = 'sqlite' | 'postgres';

// Migrations are listed here rather than read from disk so they load the same
// way under tsx, a bundler or compiled output. Names sort in application order.
// One line per migration, so migrations added side by side merge cleanly.
const migrations: Record<Dialect, Record<string, Migration>> = {
  sqlite: {
    '0001-foundation': sqlite0001,
    '0002-imports': sqlite0002imports,
    '0003-segments': sqlite0003segments,
    '0004-forms': sqlite0004forms,
    '0005-campaigns': sqlite0005campaigns,
    '0008-users': sqlite0008users,
    '0009-form-requests': sqlite0009formRequests,
    '0010-foundation-catch-up': sqlite0010catchUp,
    '0011-sending-progress': sqlite0011sendingProgress,
    '0012-queue-applied': sqlite0012queueApplied,
    '0013-spent-form-tokens': sqlite0013spentTokens,
    '0015-erasure-wordings': sqlite0015erasureWordings,
    '0016-message-removal': sqlite0016messageRemoval,
    '0017-default-forms': sqlite0017defaultForms,
    '0018-webhooks': sqlite0018webhooks,
    '0020-sending-schedule': sqlite0020sendingSchedule,
    '0021-sending-exclusions': sqlite0021sendingExclusions,
    '0022-events-partitions': sqlite0022eventsPartitions,
  },
  postgres: {
    '0001-foundation': pg0001,
    '0002-imports': pg0002imports,
    '0003-segments': pg0003segments,
    '0004-forms': pg0004forms,
    '0005-campaigns': pg0005campaigns,
    '0008-users': pg0008users,
    '0009-form-requests': pg0009formRequests,
    '0010-foundation-catch-up': pg0010catchUp,
    '0011-sending-progress': pg0011sendingProgress,
    '0012-queue-applied': pg0012queueApplied,
    '0013-spent-form-tokens': pg0013spentTokens,
    '0015-erasure-wordings': pg0015erasureWordings,
    '0016-message-removal': pg0016messageRemoval,
    '0017-default-forms': pg0017defaultForms,
    '0018-webhooks': pg0018webhooks,
    '0020-sending-schedule': pg0020sendingSchedule,
    '0021-sending-exclusions': pg0021sendingExclusions,
    '0022-events-partitions': pg0022eventsPartitions,
  },
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations[dialect] };
}
