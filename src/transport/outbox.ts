import { access, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { mailOptions, messagePayload } from './message-format.js';
import type { OutgoingMessage, Transport } from './transport.js';

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
const PART = '.part';

/** The file a message of `channel` is written to: email as `.eml`, SMS and push as `.json`. */
const extension = (channel: OutgoingMessage['channel']): string => (channel === 'email' ? 'eml' : 'json');

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

  private file(sendingId: number, channel: OutgoingMessage['channel'], recipientKey: string): string {
    if (!SAFE_NAME.test(recipientKey)) throw new Error(`recipientKey is not a safe file name: ${JSON.stringify(recipientKey)}`);
    return join(this.root, String(sendingId), `${recipientKey}.${extension(channel)}`);
  }

  async send(message: OutgoingMessage): Promise<void> {
    const file = this.file(message.sendingId, message.channel, message.recipientKey);
    const dir = join(this.root, String(message.sendingId));
    if (!this.made.has(message.sendingId)) {
      await mkdir(dir, { recursive: true });
      this.made.add(message.sendingId);
    }
    const body = message.channel === 'email' ? await buildEml(message) : `${JSON.stringify(messagePayload(message), null, 2)}\n`;
    const partial = `${file}${PART}`;
    await writeFile(partial, body);
    await rename(partial, file);
  }

  /** A message is in the outbox once its whole file is: a `.part` beside it is a write a crash cut short, removed. */
  async recover(channel: OutgoingMessage['channel'], sendingId: number, recipientKeys: string[]): Promise<Set<string>> {
    const held = new Set<string>();
    for (const key of recipientKeys) {
      const file = this.file(sendingId, channel, key);
      await rm(`${file}${PART}`, { force: true });
      if (await access(file).then(() => true, () => false)) held.add(key);
    }
    return held;
  }

  /** Removes the `.part` files of sendings that are not running: no writer can still be finishing them. */
  async sweep(running: (sendingId: number) => boolean): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.root).catch(() => [])) {
      if (!/^\d+$/.test(name) || running(Number(name))) continue;
      const dir = join(this.root, name);
      for (const file of await readdir(dir).catch(() => [])) {
        if (!file.endsWith(PART)) continue;
        await rm(join(dir, file), { force: true });
        removed++;
      }
    }
    return removed;
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
