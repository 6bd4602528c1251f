import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** One group-commit batch of tracking events, as kept on disk until the database has it. */
export interface JournalBatch<T> {
  batch: number;
  events: T[];
}

/**
 * A per-process append-only file of tracking batches whose database commit
 * is late. A hit is acknowledged once its batch is either committed or written
 * here and fsynced, so a slow or paused database neither delays the redirect
 * nor loses the hit. Every batch transaction records its batch number under
 * the journal's name in `meta`, so replay after a crash applies exactly the
 * batches the database does not have.
 */
export class HitJournal<T> {
  private handle: FileHandle | undefined;
  readonly name: string;

  constructor(
    private readonly dir: string,
    pid = process.pid,
  ) {
    this.name = `hits-${pid}-${Date.now()}.log`;
  }

  /** The `meta` key holding the last batch of this journal the database committed. */
  static metaKey(name: string): string {
    return `hit-journal:${name}`;
  }

  get metaKey(): string {
    return HitJournal.metaKey(this.name);
  }

  /** Appends batches and waits until they are on disk. */
  async append(batches: JournalBatch<T>[]): Promise<void> {
    if (batches.length === 0) return;
    if (!this.handle) {
      await mkdir(this.dir, { recursive: true });
      this.handle = await open(join(this.dir, this.name), 'a');
    }
    await this.handle.appendFile(batches.map((b) => `${JSON.stringify(b)}\n`).join(''));
    await this.handle.datasync();
  }

  /** Removes this process's journal once every batch in it is committed. */
  async discard(): Promise<void> {
    if (!this.handle) return;
    await this.handle.close();
    this.handle = undefined;
    await rm(join(this.dir, this.name), { force: true });
  }

  /**
   * Journals left by processes that are gone, with their batches. The caller
   * applies the batches the database lacks, then calls `remove`.
   */
  static async orphans<T>(dir: string): Promise<{ name: string; batches: JournalBatch<T>[]; remove(): Promise<void> }[]> {
    if (!existsSync(dir)) return [];
    const found = [];
    for (const name of (await readdir(dir)).filter((f) => /^hits-\d+-\d+\.log$/.test(f))) {
      const pid = Number(name.split('-')[1]);
      if (pid !== process.pid && isAlive(pid)) continue;
      const text = await readFile(join(dir, name), 'utf8');
      // A torn last line was never acknowledged (the fsync did not return): skip it.
      const batches = text
        .split('\n')
        .filter(Boolean)
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as JournalBatch<T>];
          } catch {
            return [];
          }
        });
      found.push({ name, batches, remove: () => rm(join(dir, name), { force: true }) });
    }
    return found;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
