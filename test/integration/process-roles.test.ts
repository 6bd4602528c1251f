// Real server processes in their roles on one database (SPEC §8): a track process answers /t/* only, an api process
// the API only, and three cluster workers share the jobs — leases must keep any contact from getting a message twice.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';

const ADMIN = 'roles-admin-key';
const CONTACTS = 500;
const SENDINGS = 3;

for (const dialect of dialects()) {
  describe(`process roles (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let smtp: SMTPServer;
    const received: { to: string; subject: string; body: string }[] = [];
    const dirs: string[] = [];
    let api: ServerProcess;
    let track: ServerProcess;
    let workers: ServerProcess;

    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${api.base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, callback) {
          let raw = '';
          stream.on('data', (chunk: Buffer) => {
            raw += chunk.toString();
          });
          stream.on('end', () => {
            const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';
            for (const r of session.envelope.rcptTo) received.push({ to: r.address, subject, body: raw });
            callback();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      // On PostgreSQL every node has its own data dir (SPEC §8); SQLite nodes share the one database file.
      const dataDir = () => {
        if (dialect === 'sqlite') return database.dataDir;
        const dir = mkdtempSync(join(tmpdir(), 'trackguard-node-'));
        dirs.push(dir);
        return dir;
      };
      const env = (role: string) => ({
        TRACKGUARD_DATA_DIR: dataDir(),
        DATABASE_URL: database.databaseUrl,
        TRACKGUARD_ADMIN_KEY: ADMIN,
        TRACKGUARD_SECRET: 'roles-secret',
        TRACKGUARD_TRANSPORT: 'smtp',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        TRACKGUARD_ROLE: role,
      });
      // The api node first: it runs the migrations the others then find done.
      api = await startServer(['serve'], env('api'));
      track = await startServer(['serve'], env('track'));
      workers = await startServer(['serve', '--workers', '3'], { ...env('worker'), TRACKGUARD_PUBLIC_URL: track.base });
    });
    afterAll(async () => {
      await Promise.all([api?.stop(), track?.stop(), workers?.stop()]);
      await new Promise<void>((resolve) => smtp?.close(() => resolve()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      await database?.drop();
    });

    it('serves each role its own routes, and /healthz and /metrics on every one', async () => {
      for (const node of [api, track, workers]) {
        expect((await fetch(`${node.base}/healthz`)).status).toBe(200);
        expect((await fetch(`${node.base}/metrics`)).status).toBe(200);
      }
      expect(((await (await fetch(`${workers.base}/healthz`)).json()) as { role: string }).role).toBe('worker');
      expect((await fetch(`${api.base}/api/v1/projects`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
      expect((await fetch(`${track.base}/api/v1/projects`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
      expect((await fetch(`${workers.base}/api/v1/projects`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
      expect((await fetch(`${api.base}/t/o/AAAAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404);
      // The web snippet and its page views belong to the track role, like the pixel and the redirect.
      expect((await fetch(`${track.base}/t/w.js`)).status).toBe(200);
      expect((await fetch(`${api.base}/t/w.js`)).status).toBe(404);
      expect((await fetch(`${api.base}/admin/`)).status).not.toBe(404);
      expect((await fetch(`${track.base}/admin/`)).status).toBe(404);
    });

    it('sends every contact each message exactly once with three workers sharing the jobs, and the track node records the click', async () => {
      const project = await call<{ id: string }>('POST', '/projects', { name: 'roles' });
      const records = Array.from({ length: CONTACTS }, (_, i) => ({ email: `c${i}@roles.test` }));
      await call('POST', `/projects/${project.id}/contacts/merge`, { records });
      const sendings: string[] = [];
      for (let s = 0; s < SENDINGS; s++) {
        const message = await call<{ id: string }>('POST', `/projects/${project.id}/messages`, {
          channel: 'email', name: `m${s}`, communicationType: 'newsletter', subject: `Subject ${s}`, html: '<p><a href="https://example.com/x">x</a></p>',
        });
        sendings.push((await call<{ id: string }>('POST', `/projects/${project.id}/sendings`, { messageId: message.id, target: { all: true } })).id);
      }
      const deadline = Date.now() + 90_000;
      for (;;) {
        const states = await Promise.all(sendings.map((id) => call<{ status: string }>('GET', `/projects/${project.id}/sendings/${id}`)));
        if (states.every((s) => s.status === 'sent')) break;
        if (Date.now() > deadline) throw new Error(`sendings still ${states.map((s) => s.status).join(', ')}\n${workers.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const pairs = received.map((r) => `${r.subject}|${r.to}`);
      expect(pairs).toHaveLength(CONTACTS * SENDINGS);
      expect(new Set(pairs).size).toBe(CONTACTS * SENDINGS);

      const link = /https?:\/\/127\.0\.0\.1:\d+\/t\/c\/[A-Za-z0-9_-]+/.exec(received[0]!.body.replace(/=\r?\n/g, '').replace(/=3D/g, '='))?.[0];
      expect(link?.startsWith(track.base)).toBe(true);
      const click = await fetch(link!, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux) Firefox/128.0' } });
      expect(click.status).toBe(302);
      expect(click.headers.get('location')).toContain('https://example.com/x');
    });

    it('stops the cluster on SIGTERM: every worker drains and the primary exits 0', async () => {
      expect(await workers.stop('SIGTERM')).toBe(0);
    });
  });
}
