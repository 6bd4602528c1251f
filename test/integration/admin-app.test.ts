// The admin app is served by the API server: every SPEC §13 deep link must load the page directly,
// hashed assets are cached for good, and the CSP forbids inline scripts; a missing build never stops the server.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const DEEP_LINKS = [
  '/admin',
  '/admin/login',
  '/admin/projects',
  '/admin/projects/1/settings/tracking',
  '/admin/projects/1/contacts',
  '/admin/projects/1/contacts/7',
  '/admin/projects/1/imports/new',
  '/admin/projects/1/imports/3',
  '/admin/projects/1/privacy',
  '/admin/projects/1/sendings/2',
];

for (const dialect of dialects()) describe(`admin app (${dialect})`, () => {
  let t: TestApp;
  let dist: string;
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'trackguard-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><html><head><script type="module" src="/admin/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
    t = await startTestApp(dialect, {}, undefined, { adminDist: dist });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('every deep link answers the app page, never cached stale', async () => {
    for (const url of DEEP_LINKS) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/^text\/html/);
      expect(res.body, url).toContain('<div id="root">');
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
  });

  it('the page forbids inline scripts and framing', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/admin/login' });
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    // Inline styles only, for the sandboxed previews of emails and hosted forms (srcdoc frames inherit this policy).
    const inline = [...directives].filter(([, values]) => values.includes("'unsafe-inline'")).map(([name]) => name);
    expect(inline.sort()).toEqual(['style-src-attr', 'style-src-elem']);
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('hashed assets are immutable; a missing asset is a 404, not the page', async () => {
    const asset = await t.app.inject({ method: 'GET', url: '/admin/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await t.app.inject({ method: 'GET', url: '/admin/assets/index-old999.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/problem\+json/);
  });

  it('the API keeps its own answers beside the app', async () => {
    const res = await t.api('GET', '/api/v1/projects', undefined, null);
    expect(res.status).toBe(401);
  });
});

describe('admin app not built', () => {
  it('the server starts and /admin says the app is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'trackguard-nodist-'));
    const t = await startTestApp('sqlite', {}, undefined, { adminDist: empty });
    try {
      for (const url of ['/admin', '/admin/projects/1/contacts']) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(503);
        expect(res.body).toContain('The admin app is not built');
      }
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await t.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
