import type { Command } from 'commander';
import { loadCliConfig } from './cli-config.js';
import { createContext } from '../context.js';
import type { SendingTarget } from '../services/sendings.service.js';

/** `trackguard send` (queue a sending and deliver it) and `trackguard report` (print a sending report as JSON). */
export function registerSendCommands(program: Command): void {
  program
    .command('send')
    .description('send a message to all active contacts, a group or a list of contact ids, and wait until it is sent')
    .requiredOption('--project <id>', 'project id')
    .requiredOption('--message <id>', 'message id')
    .option('--group <id>', 'target a group')
    .option('--contacts <ids>', 'target these contact ids (comma-separated)')
    .action(async (opts: { project: string; message: string; group?: string; contacts?: string }) => {
      const target: SendingTarget = opts.group
        ? { groupId: Number(opts.group) }
        : opts.contacts
          ? { contactIds: opts.contacts.split(',').map((id) => Number(id.trim())) }
          : { all: true };
      const ctx = await createContext(await loadCliConfig());
      try {
        const sending = await ctx.sendings.create(Number(opts.project), { messageId: Number(opts.message), target });
        process.stdout.write(`sending ${sending.id}: ${sending.targeted} contacts targeted\n`);
        while (await ctx.jobs.runOnce()) {
          // deliver now; a running server would also pick the job up
        }
        const done = await ctx.sendings.get(Number(opts.project), sending.id);
        process.stdout.write(`sending ${done.id}: ${done.status}, ${done.delivered} delivered, ${done.failed} failed (${done.tracked} tracked, ${done.untracked} untracked)\n`);
        process.exitCode = done.status === 'sent' ? 0 : 1;
      } finally {
        await ctx.close();
      }
    });

  program
    .command('report')
    .description('print a sending report (JSON)')
    .requiredOption('--project <id>', 'project id')
    .requiredOption('--sending <id>', 'sending id')
    .action(async (opts: { project: string; sending: string }) => {
      const ctx = await createContext(await loadCliConfig());
      try {
        const report = await ctx.reports.sendingReport(Number(opts.project), Number(opts.sending));
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } finally {
        await ctx.close();
      }
    });
}
