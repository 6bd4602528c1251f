// The README is code (issue 12 items 1 and 2): a newcomer copies its tour line by line, so every shell block of
// "A tour of the API" runs here against a fresh server started as the README says, and any failing line fails.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** The shell blocks of one README section that talk to the API. */
function tourBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## A tour of the API');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => block.includes('$API'));
}

for (const dialect of dialects()) {
  describe(`the README's API tour (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let server: ServerProcess;
    const admin = 'tga_readme-tour-admin-key';

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      server = await startServer(['serve'], { TRACKGUARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl, TRACKGUARD_ADMIN_KEY: admin });
    });
    afterAll(async () => {
      await server?.stop();
      await database?.drop();
    });

    it('runs line by line; every request succeeds and every id it captures is real', async () => {
      const blocks = tourBlocks();
      expect(blocks.length).toBeGreaterThanOrEqual(2);
      const script = [
        'set -euo pipefail',
        // The README's curl lines, failing on any HTTP error as a careful reader would notice.
        'curl() { command curl --fail-with-body "$@"; }',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's indirect expansion, not a template
        'captured() { for v in "$@"; do if [ -z "${!v:-}" ] || [ "${!v}" = null ]; then echo "empty $v" >&2; exit 3; fi; done; }',
        ...blocks.map((block) =>
          block
            .replace(/^ADMIN=.*$/m, `ADMIN=${admin}`)
            .replace(/^API=.*$/m, `API=${server.base}/api/v1`),
        ),
        'captured PID KEY CID MID SID',
        'echo TOUR-DONE',
      ].join('\n');
      const { stdout } = await run('bash', ['-c', script], { cwd: database.dataDir, timeout: 60_000 }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
        throw new Error(`the README tour failed (exit ${error.code}):\n${error.stderr}\n${error.stdout}`);
      });
      expect(stdout).toContain('TOUR-DONE');
      // The tour's contact card shows the module on, and the message went out.
      expect(stdout).toContain('"trackingModule":"on"');
    });
  });
}
