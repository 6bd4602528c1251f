import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { mailOptions, messagePayload } from './message-format.js';
import type { OutgoingMessage, Transport } from './transport.js';

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** `<dataDir>/outbox`: one folder per sending. */
export const outboxDir = (dataDir: string): string => join(dataDir, 'outbox');

/** Builds the RFC 5322 bytes of an email exactly as SMTP would carry them. */
export function buildEml(message: OutgoingMessage): Promise<Buffer> {
  return new MailComposer(mailOptions(message)).compile().build();
}

/**
 * Writes each message as a file, like a mail server's queue: email as
 * `<sendingId>/<recipientKey>.eml`, SMS and push as `.json`. Files appear
 * whole (written aside, then renamed) so a reader never sees half a message.
 */
export class OutboxTransport implements Transport {
  private readonly root: string;
  private readonly made = new Set<number>();

  constructor(dataDir: string) {
    this.root = outboxDir(dataDir);
  }

  async send(message: OutgoingMessage): Promise<void> {
    if (!SAFE_NAME.test(message.recipientKey)) throw new Error(`recipientKey is not a safe file name: ${JSON.stringify(message.recipientKey)}`);
    const dir = join(this.root, String(message.sendingId));
    if (!this.made.has(message.sendingId)) {
      await mkdir(dir, { recursive: true });
      this.made.add(message.sendingId);
    }
    const [ext, body] =
      message.channel === 'email' ? ['eml', await buildEml(message)] : ['json', `${JSON.stringify(messagePayload(message), null, 2)}\n`];
    const file = join(dir, `${message.recipientKey}.${ext}`);
    const partial = `${file}.part`;
    await writeFile(partial, body);
    await rename(partial, file);
  }

  async close(): Promise<void> {}
}

/**
 * Deletes outbox files older than `olderThanDays` (by modification time) and
 * the sending folders left empty. Returns how many files went.
 *
 * @example await purgeOutbox(config.dataDir, config.outboxRetentionDays) // 120
 */
export async function purgeOutbox(dataDir: string, olderThanDays: number, now = Date.now()): Promise<number> {
  const root = outboxDir(dataDir);
  const cutoff = now - olderThanDays * 86_400_000;
  let removed = 0;
  let sendings: string[];
  try {
    sendings = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  for (const sending of sendings) {
    const dir = join(root, sending);
    if (!(await stat(dir)).isDirectory()) continue;
    const files = await readdir(dir);
    let left = files.length;
    for (const name of files) {
      const file = join(dir, name);
      const info = await stat(file).catch(() => null);
      if (info?.isFile() && info.mtimeMs < cutoff) {
        await rm(file, { force: true });
        removed++;
        left--;
      }
    }
    // Another writer may be adding to this sending right now: only an empty folder goes.
    if (left === 0) await rmdir(dir).catch(() => undefined);
  }
  return removed;
}
