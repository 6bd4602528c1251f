import { sql } from 'kysely';
import pg from 'pg';
import type { ChangeChannel } from '../services/change-notifier.js';
import type { Db } from './database.js';

const CHANNEL = 'trackguard_changes';

/**
 * Change notifications through PostgreSQL `LISTEN/NOTIFY`: sent with
 * `pg_notify` on the pool, received on one dedicated connection that
 * reconnects after a failure (and reports the gap, so caches are emptied).
 */
export function pgChangeChannel(databaseUrl: string, db: Db): ChangeChannel {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (onPayload: (payload: string) => void, onGap: () => void, first: boolean): Promise<void> => {
    if (closed) return;
    const next = new pg.Client({ connectionString: databaseUrl });
    const again = () => {
      if (closed || client !== next) return;
      client = undefined;
      next.end().catch(() => undefined);
      retry = setTimeout(() => void connect(onPayload, onGap, false).catch(() => undefined), 1000);
      retry.unref();
    };
    client = next;
    next.on('error', again);
    next.on('end', again);
    next.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload !== undefined) onPayload(message.payload);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
    } catch {
      // Retried every second; until then caches expire on their own and consent stays exact regardless.
      again();
      return;
    }
    if (!first) onGap();
  };
  return {
    async send(payload) {
      await sql`SELECT pg_notify(${CHANNEL}, ${payload})`.execute(db);
    },
    listen: (onPayload, onGap) => connect(onPayload, onGap, true),
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const open = client;
      client = undefined;
      await open?.end().catch(() => undefined);
    },
  };
}
