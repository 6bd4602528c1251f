import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** One group-commit batch of tracking events, as kept on disk until the database has it. */
export interface JournalBatch<T> {
  batch: number;
  events: T[];
  /** Per event, the queue message id it was published under before NATS failed (null: none); absent when none has one. */
  ids?: (string | null)[];
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

  /**
   * Creates the (empty) journal file at start, readable by this user only.
   * Every process has one, so after a crash the next start finds it and
   * removes the process's row in `meta` even when nothing was journaled.
   */
  async open(): Promise<void> {
    if (this.handle) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.handle = await open(join(this.dir, this.name), 'a', 0o600);
  }

  /** Appends batches and waits until they are on disk. */
  async append(batches: JournalBatch<T>[]): Promise<void> {
    if (batches.length === 0) return;
    if (!this.handle) await this.open();
    await this.handle!.appendFile(batches.map((b) => `${JSON.stringify(b)}\n`).join(''));
    await this.handle!.datasync();
  }

  /** Removes this process's journal once every batch in it is committed. */
  async discard(): Promise<void> {
    if (!this.handle) return;
    await this.handle.close();
    this.handle = undefined;
    await rm(join(this.dir, this.name), { force: true });
  }

  /**
   * Journals left by processes that are gone, with their batches. Each one is
   * first claimed by renaming it (`….replay-<pid>`), so processes sharing a
   * data dir (a cluster) never replay one journal twice; a claim whose
   * process died is taken over. The caller applies the batches the database
   * lacks, then calls `remove`.
   */
  static async orphans<T>(dir: string): Promise<{ name: string; batches: JournalBatch<T>[]; remove(): Promise<void> }[]> {
    if (!existsSync(dir)) return [];
    const found = [];
    for (const file of await readdir(dir)) {
      const match = /^(hits-(\d+)-\d+\.log)(?:\.replay-(\d+))?$/.exec(file);
      if (!match) continue;
      const [, name, owner, claimer] = match as unknown as [string, string, string, string | undefined];
      const holder = Number(claimer ?? owner);
      if (holder !== process.pid && isAlive(holder)) continue;
      const claimed = join(dir, `${name}.replay-${process.pid}`);
      try {
        if (file !== `${name}.replay-${process.pid}`) await rename(join(dir, file), claimed);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process claimed it first
        throw error;
      }
      const text = await readFile(claimed, 'utf8');
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
      found.push({ name, batches, remove: () => rm(claimed, { force: true }) });
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
