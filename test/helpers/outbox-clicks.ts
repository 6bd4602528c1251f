import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestApp } from './harness.js';

/**
 * Sends an email message with `html` to every active contact of the project, runs the jobs
 * until the sending is done, and returns each recipient's first click path (`/t/c/<token>`)
 * read from the outbox.
 */
export async function sendAndReadClicks(t: TestApp, pid: string, html: string): Promise<Record<string, string>> {
  const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'Web visit', communicationType: 'newsletter', subject: 'S', html });
  if (message.status !== 201) throw new Error(`message not created: ${JSON.stringify(message.body)}`);
  const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { all: true } });
  while (await t.ctx.jobs.runOnce()) {
    // drain the sending's job
  }
  const clicks: Record<string, string> = {};
  const dir = join(t.config.dataDir, 'outbox', sending.body.id);
  for (const file of readdirSync(dir)) {
    const eml = readFileSync(join(dir, file), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const to = /^To: (.+)$/m.exec(eml)?.[1]?.trim() ?? '';
    const click = /\/t\/c\/[A-Za-z0-9_-]+/.exec(eml)?.[0];
    if (click) clicks[to] = click;
  }
  return clicks;
}
