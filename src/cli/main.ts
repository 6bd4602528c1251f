import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createContext } from '../context.js';
import { registerDemoCommand } from './demo.command.js';
import { registerImportCommand } from './import.command.js';
import { registerSendCommands } from './send.command.js';
import { buildApp } from '../http/app.js';
import { verifyLedgers } from '../services/ledger.service.js';

const program = new Command('trackguard').description('Messages, tracking and behavioural-tracking consent').showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('start the HTTP server (PORT, HOST, TRACKGUARD_DATA_DIR, DATABASE_URL, …)')
  .option('-p, --port <port>', 'HTTP port (PORT)')
  .option('--host <host>', 'listen address (HOST)')
  .action(async (opts: { port?: string; host?: string }) => {
    const config = loadConfig(process.env, {
      ...(opts.port ? { port: Number(opts.port) } : {}),
      ...(opts.host ? { host: opts.host } : {}),
    });
    const ctx = await createContext(config);
    const generated = await ctx.projects.ensureAdminKey(config.adminKey);
    const owner = await ctx.users.ensureOwner({ email: config.adminEmail, password: config.adminPassword });
    const app = await buildApp(ctx);
    if (generated) {
      process.stdout.write(`\ntrackguard admin key (shown once, stored hashed): ${generated}\n`);
    }
    if (owner) {
      process.stdout.write(`${generated ? '' : '\n'}trackguard admin app (${config.publicUrl}/admin): sign in as ${owner.email} with password ${owner.password} (shown once, stored hashed)\n`);
    }
    if (generated || owner) process.stdout.write('\n');
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
    await app.listen({ port: config.port, host: config.host });
    await ctx.housekeeping.schedule();
    ctx.jobs.start();
    app.log.info({ database: ctx.store.dialect, publicUrl: config.publicUrl }, 'trackguard ready');
    if (process.env.TRACKGUARD_QUEUE) {
      app.log.warn('TRACKGUARD_QUEUE is not supported yet: tracking hits are buffered in the local hit journal (data dir) instead');
    }
  });

const ledger = program.command('ledger').description('consent-history ledger');
ledger
  .command('verify')
  .description("check every project's consent-history hash chain; exits 1 at the first broken entry")
  .action(async () => {
    const ctx = await createContext(loadConfig());
    try {
      const reports = await verifyLedgers(ctx.store.db);
      let failed = false;
      for (const report of reports) {
        if (report.broken) {
          failed = true;
          const at = report.broken.id === null ? `at the head (sequence ${report.broken.seq})` : `at entry id ${report.broken.id} (sequence ${report.broken.seq})`;
          process.stdout.write(`project ${report.projectId}: BROKEN ${at}: ${report.broken.reason}\n`);
        } else {
          process.stdout.write(`project ${report.projectId}: ok (${report.entries} entries)\n`);
        }
      }
      process.stdout.write(failed ? 'ledger verify: FAILED\n' : `ledger verify: ok (${reports.length} projects)\n`);
      process.exitCode = failed ? 1 : 0;
    } finally {
      await ctx.close();
    }
  });

registerImportCommand(program);
registerDemoCommand(program);
registerSendCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`trackguard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
