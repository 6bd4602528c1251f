// `npm run demo` next to a server on PORT=8790 wrote every link to 127.0.0.1:8787 (issue 12 item 4): a command-line
// sending must write links to the server of its installation, unless TRACKGUARD_PUBLIC_URL says otherwise.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDatabase } from '../helpers/harness.js';
import { startServer } from '../helpers/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** The decoded HTML and text of the emails of the sending the demo printed. */
async function sentText(dataDir: string, stdout: string): Promise<string> {
  const sending = /outbox\/(\d+)\//.exec(stdout)?.[1];
  expect(sending).toBeDefined();
  const dir = join(dataDir, 'outbox', sending!);
  const mails = await Promise.all(readdirSync(dir).map((file) => simpleParser(readFileSync(join(dir, file)))));
  expect(mails.length).toBeGreaterThan(0);
  return mails.map((m) => `${m.html}\n${m.text}`).join('\n');
}

for (const dialect of dialects()) {
  describe(`links written by the command line (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    const cli = (args: string[], env: Record<string, string | undefined>) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, PORT: undefined, TRACKGUARD_PUBLIC_URL: undefined, LOG_LEVEL: 'warn', TRACKGUARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl, ...env },
        timeout: 60_000,
      });

    beforeAll(async () => {
      database = await freshDatabase(dialect);
    });
    afterAll(async () => database?.drop());

    it("point to the port of the installation's server, and the demo's curl lines name it", async () => {
      const server = await startServer(['serve'], { TRACKGUARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl, TRACKGUARD_ADMIN_KEY: 'cli-url-admin' });
      try {
        const { stdout } = await cli(['demo', '--contacts', '6'], {});
        expect(stdout).toContain(`${server.base}/api/v1/projects/`);
        const mails = await sentText(database.dataDir, stdout);
        expect(mails).toContain(`${server.base}/t/c/`);
        expect(mails).not.toContain('127.0.0.1:8787');
      } finally {
        await server.stop();
      }
    });

    it('TRACKGUARD_PUBLIC_URL still decides when it is set', async () => {
      const { stdout } = await cli(['demo', '--contacts', '3'], { TRACKGUARD_PUBLIC_URL: 'https://mail.example.com' });
      expect(stdout).toContain('https://mail.example.com/api/v1/projects/');
      expect(await sentText(database.dataDir, stdout)).toContain('https://mail.example.com/t/c/');
    });
  });
}
