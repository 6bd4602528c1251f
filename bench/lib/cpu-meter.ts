import { readFileSync } from 'node:fs';
import pg from 'pg';

/*
 * CPU seconds spent by this process and by the PostgreSQL backends serving the
 * bench's database. On a shared machine wall-clock rates swing with the load of
 * others; CPU per row does not, so benches print both.
 */

const TICKS = 100; // USER_HZ on Linux

function backendSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0; // not on this machine, or gone
  }
}

export interface CpuMeter {
  /** CPU seconds since start: this process, and the database's backends (0 on SQLite). */
  read(): Promise<{ node: number; db: number }>;
}

export async function startCpuMeter(databaseUrl?: string): Promise<CpuMeter> {
  const started = process.cpuUsage();
  const backends = async (): Promise<Map<number, number>> => {
    const out = new Map<number, number>();
    if (!databaseUrl) return out;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      for (const { pid } of rows) out.set(pid, backendSeconds(pid));
    } finally {
      await client.end();
    }
    return out;
  };
  const before = await backends();
  return {
    async read() {
      const used = process.cpuUsage(started);
      let db = 0;
      for (const [pid, seconds] of await backends()) db += seconds - (before.get(pid) ?? 0);
      return { node: (used.user + used.system) / 1e6, db };
    },
  };
}
