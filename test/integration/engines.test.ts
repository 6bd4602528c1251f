// `npm ci` must install on the Node.js the README names without an EBADENGINE warning: a dependency
// that wants a newer Node may use what this one lacks and fail at run time, far from the install.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface Lock {
  packages: Record<string, { version?: string; engines?: Record<string, string> | string[] }>;
}

describe('engines', () => {
  it('every locked package accepts the running Node.js, and so does the project', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lock;
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (range && !semver.satisfies(process.versions.node, range)) refused.push(`${path || 'trackguard'}@${entry.version}: node ${range}`);
    }
    expect(refused).toEqual([]);
  });
});
