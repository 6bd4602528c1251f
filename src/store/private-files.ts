import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/*
 * The data dir holds the database, the token secret, hit journals, uploads and
 * the outbox: personal data and keys. What trackguard creates there is readable
 * by its own user only, whatever the umask.
 */

/** Creates `dir` (and its parents) as 0700 when missing; an existing directory keeps the mode its owner gave it. */
export function ensurePrivateDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Makes sure `file` exists with mode 0600 before a library opens it (SQLite
 * gives its -wal and -shm files the database file's mode).
 */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}
