// The app's API client is typed from web/src/api/schema.d.ts: if a route changes and the
// file is not regenerated, the app would compile against an API that no longer exists.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateApiTypes, SCHEMA_FILE } from './api-types.js';

it('web/src/api/schema.d.ts matches the server\'s OpenAPI document (run `npm run api:types` after changing a route)', async () => {
  const expected = await generateApiTypes();
  expect(readFileSync(SCHEMA_FILE, 'utf8') === expected, 'schema.d.ts is stale: run `npm run api:types`').toBe(true);
});
