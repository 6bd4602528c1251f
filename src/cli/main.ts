import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createContext } from '../context.js';
import { registerBackupCommand } from './backup.command.js';
import { registerDemoCommand } from './demo.command.js';
import { registerImportCommand } from './import.command.js';
import { registerSendCommands } from './send.command.js';
import { registerReceiptCommand } from './receipt.command.js';
import { registerServeCommand } from './serve.command.js';
import { verifyLedgers } from '../services/ledger.service.js';

const program = new Command('trackguard').description('Messages, tracking and behavioural-tracking consent').showHelpAfterError();

registerServeCommand(program);

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
registerBackupCommand(program);
registerReceiptCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`trackguard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
