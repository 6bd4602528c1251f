import cluster from 'node:cluster';
import type { Command } from 'commander';
import { type Config, loadConfig, readRole, readWorkers } from '../config.js';
import { type AppContext, createContext } from '../context.js';
import { buildApp } from '../http/app.js';
import { recordPublicUrl } from './cli-config.js';

interface ServeOptions {
  port?: string;
  host?: string;
  role?: string;
  workers?: string;
}

/** How long a stopping primary waits for its workers to drain before it exits anyway. */
const DRAIN_MS = 30_000;

/**
 * `trackguard serve [--role all|api|track|worker] [--workers N]` (SPEC §8).
 * With N > 1 this process becomes a node:cluster primary: it runs the
 * migrations and prints the generated credentials once, then forks N server
 * processes sharing the port (restarting any that dies) and forwards
 * SIGTERM / SIGINT to them so each drains its hits, jobs and connections.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('start the HTTP server (PORT, HOST, TRACKGUARD_DATA_DIR, DATABASE_URL, TRACKGUARD_ROLE, TRACKGUARD_WORKERS, …)')
    .option('-p, --port <port>', 'HTTP port (PORT)')
    .option('--host <host>', 'listen address (HOST)')
    .option('--role <role>', 'all, api (API, forms, admin app), track (/t/* only) or worker (jobs and hit consumers) (TRACKGUARD_ROLE)')
    .option('--workers <n>', 'fork n server processes on this machine, sharing the port (TRACKGUARD_WORKERS)')
    .action(async (opts: ServeOptions) => {
      const config = loadConfig(process.env, {
        ...(opts.port ? { port: Number(opts.port) } : {}),
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.role ? { role: readRole(opts.role) } : {}),
        ...(opts.workers ? { workers: readWorkers(opts.workers) } : {}),
      });
      if (config.workers > 1 && cluster.isPrimary) await runPrimary(config);
      else await runServer(config);
    });
}

async function printCredentials(config: Config): Promise<void> {
  const ctx = await createContext(config);
  try {
    await printOnce(ctx, config);
  } finally {
    await ctx.close();
  }
}

async function runPrimary(config: Config): Promise<void> {
  // Migrations, journal replay and the printed-once credentials happen here, before any worker starts.
  await printCredentials(config);
  let stopping = false;
  const live = new Set<number>();
  const fork = () => live.add(cluster.fork().id);
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker.id);
    if (stopping) {
      if (live.size === 0) process.exit(0);
      return;
    }
    process.stderr.write(`trackguard: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    setTimeout(fork, 1000).unref();
  });
  for (let i = 0; i < config.workers; i++) fork();
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) process.exit(0);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), DRAIN_MS).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`trackguard: ${config.workers} ${config.role} workers on ${config.host}:${config.port}\n`);
}

async function runServer(config: Config): Promise<void> {
  const ctx = await createContext(config);
  if (!cluster.isWorker) await printOnce(ctx, config);
  const app = await buildApp(ctx);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close();
    await ctx.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A cluster worker whose primary is gone stops too (its port would otherwise stay shared with nobody restarting it).
  if (cluster.isWorker) process.on('disconnect', stop);
  await app.listen({ port: config.port, host: config.host });
  // Command-line sendings of this installation write links to the server that answers them.
  if (config.role !== 'worker' && (!cluster.isWorker || cluster.worker?.id === 1)) await recordPublicUrl(ctx.store.db, config.publicUrl);
  // With the queue, every role publishes its hits; `all` and `worker` also write them.
  ctx.queue?.start(config.role === 'all' || config.role === 'worker', app.log);
  await ctx.changes.listen();
  if (config.role === 'all' || config.role === 'worker') {
    await ctx.housekeeping.schedule();
    const recovered = await ctx.sendings.recoverAtStart();
    if (recovered.pendingRows + recovered.partialFiles > 0) app.log.warn(recovered, 'recovered what a crash left of finished sendings');
    ctx.jobs.onStep = (step) => app.log.debug(step, 'job step');
    ctx.jobs.start();
  }
  app.log.info({ database: ctx.store.dialect, role: config.role, publicUrl: config.publicUrl, queue: ctx.queue ? ctx.queue.link.names.stream : null }, 'trackguard ready');
}

/** Ensures the admin key and owner exist, printing them when just generated. */
async function printOnce(ctx: AppContext, config: Config): Promise<void> {
  const generated = await ctx.projects.ensureAdminKey(config.adminKey);
  const owner = await ctx.users.ensureOwner({ email: config.adminEmail, password: config.adminPassword });
  if (generated) {
    process.stdout.write(`\ntrackguard admin key (shown once, stored hashed): ${generated}\n`);
  }
  if (owner) {
    process.stdout.write(`${generated ? '' : '\n'}trackguard admin app (${config.publicUrl}/admin): sign in as ${owner.email} with password ${owner.password} (shown once, stored hashed)\n`);
  }
  if (generated || owner) process.stdout.write('\n');
}
