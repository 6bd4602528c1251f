import { type Config, loadConfig } from '../config.js';
import { openStore } from '../store/database.js';
import { getMeta, setMeta } from '../store/meta.js';

/** The `meta` key where a running server records the public URL its links use. */
export const PUBLIC_URL_META = 'server-public-url';

/**
 * The configuration of a command-line run (send, demo): like the server's, but
 * the links it writes into messages must point to the server that answers
 * them. Unless TRACKGUARD_PUBLIC_URL says otherwise, the URL the installation's
 * server recorded at its last start is used, so `npm run demo` next to a
 * server on PORT=8790 writes links to that server, not to the default port.
 */
export async function loadCliConfig(env: Record<string, string | undefined> = process.env): Promise<Config> {
  const config = loadConfig(env);
  if (env.TRACKGUARD_PUBLIC_URL) return config;
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSync: config.sqliteSync });
  try {
    const recorded = await getMeta(store.db, PUBLIC_URL_META).catch(() => undefined); // a fresh database has no meta table yet
    return recorded ? loadConfig(env, { publicUrl: recorded }) : config;
  } finally {
    await store.close();
  }
}

/** Records the public URL a starting server uses, for the command-line runs of the same installation. */
export async function recordPublicUrl(db: Parameters<typeof setMeta>[0], publicUrl: string): Promise<void> {
  await setMeta(db, PUBLIC_URL_META, publicUrl);
}
