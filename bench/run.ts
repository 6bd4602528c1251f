// `npm run bench -- <name...>` runs bench/<name>.ts; with no names, every bench in this folder.
// It ends with one table of the figures the benches measured against their targets.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { recordedCount, summaryTable } from './lib/summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => basename(file, '.ts'))
  .sort();
const requested = process.argv.slice(2).filter((arg) => arg !== '--');
const names = requested.length > 0 ? requested : available;

const unknown = names.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}

for (const name of names) {
  const module = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> };
  if (typeof module.run !== 'function') throw new Error(`bench/${name}.ts does not export run()`);
  process.stdout.write(`# ${name}\n`);
  await module.run();
}

if (recordedCount() > 0) process.stdout.write(`\n# summary (${new Date().toISOString()})\n${summaryTable()}\n`);
