import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createContext } from '../context.js';
import type { PublicReceiptKey } from '../services/receipts.service.js';

/**
 * `trackguard receipt verify FILE [--key JWK]`: checks a consent receipt's
 * signature (this installation's key, or a published JWK file) and that its
 * history entry is still in the ledger, intact, at its chain position and not
 * erased. Exits 0 when valid, 1 with the reason otherwise.
 */
export function registerReceiptCommand(program: Command): void {
  const receipt = program.command('receipt').description('consent receipts');
  receipt
    .command('verify')
    .argument('<file>', 'the receipt JSON as downloaded')
    .option('--key <file>', 'the published public key (JWK from /.well-known/trackguard-receipt-key) instead of the one in the database')
    .description('check a consent receipt: signature, and its entry in the consent-history ledger; exits 1 saying why when it fails')
    .action(async (file: string, opts: { key?: string }) => {
      const text = readFileSync(file, 'utf8');
      const key = opts.key ? (JSON.parse(readFileSync(opts.key, 'utf8')) as PublicReceiptKey) : undefined;
      const ctx = await createContext(loadConfig());
      try {
        const verdict = await ctx.receipts.verify(text, key);
        if (verdict.ok) {
          const { ledger, event } = verdict.receipt.receipt;
          process.stdout.write(`receipt verify: ok (project ${ledger.projectId}, chain position ${ledger.position}, ${event.action} at ${event.timestamp})\n`);
          process.exitCode = 0;
        } else {
          process.stdout.write(`receipt verify: FAILED: ${verdict.reason}\n`);
          process.exitCode = 1;
        }
      } finally {
        await ctx.close();
      }
    });
}
