import type { Migration, MigrationProvider } from 'kysely';
import * as pg0001 from './postgres/0001-foundation.js';
import * as pg0002imports from './postgres/0002-imports.js';
import * as pg0003segments from './postgres/0003-segments.js';
import * as pg0004forms from './postgres/0004-forms.js';
import * as pg0005campaigns from './postgres/0005-campaigns.js';
import * as pg0008users from './postgres/0008-users.js';
import * as sqlite0001 from './sqlite/0001-foundation.js';
import * as sqlite0002imports from './sqlite/0002-imports.js';
import * as sqlite0003segments from './sqlite/0003-segments.js';
import * as sqlite0004forms from './sqlite/0004-forms.js';
import * as sqlite0005campaigns from './sqlite/0005-campaigns.js';
import * as sqlite0008users from './sqlite/0008-users.js';

export type Dialect = 'sqlite' | 'postgres';

// Migrations are listed here rather than read from disk so they load the same
// way under tsx, a bundler or compiled output. Names sort in application order.
const migrations: Record<Dialect, Record<string, Migration>> = {
  sqlite: { '0001-foundation': sqlite0001, '0002-imports': sqlite0002imports, '0003-segments': sqlite0003segments, '0004-forms': sqlite0004forms, '0005-campaigns': sqlite0005campaigns, '0008-users': sqlite0008users },
  postgres: { '0001-foundation': pg0001, '0002-imports': pg0002imports, '0003-segments': pg0003segments, '0004-forms': pg0004forms, '0005-campaigns': pg0005campaigns, '0008-users': pg0008users },
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations[dialect] };
}
