// Consent webhooks (issue 15 item 5, SPEC §14) tell another system what a person decided: a lost or forged
// notification leaves a CRM tracking someone who refused, and a receiver URL is a way into the private network (SSRF).
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContactLink } from '../../src/domain/signed-link.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: answers each request with the next scripted status (then 200), records what came. */
class Receiver {
  readonly received: Received[] = [];
  /** Scripted answers per path, in order; a path with none left answers 200. */
  readonly script = new Map<string, { status: number; headers?: Record<string, string> }[]>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', headers: req.headers, body });
        const next = this.script.get(req.url ?? '')?.shift() ?? { status: 200 };
        res.writeHead(next.status, next.headers ?? {});
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  attemptLog: { at: string; statusCode: number | null; error: string | null }[];
}

const SECRET = 'whsec-test-0123456789';
const START = Date.UTC(2026, 2, 1, 9, 0, 0);

/** Checks the `X-Trackguard-Signature` header as a receiver would: recomputes the HMAC of "t.body". */
function signatureValid(headers: IncomingHttpHeaders, body: string, secret: string): boolean {
  const header = String(headers['x-trackguard-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest('hex');
  return expected === match[2];
}

async function newContact(t: TestApp, pid: string, email: string): Promise<string> {
  const res = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email }] });
  return res.body.results[0]!.contactId;
}

/** Runs every job due now. */
async function runDue(t: TestApp): Promise<void> {
  while (await t.ctx.jobs.runOnce()) {
    // until nothing is due
  }
}

async function deliveries(t: TestApp, pid: string, wid: string): Promise<DeliveryView[]> {
  const res = await t.api<{ items: DeliveryView[] }>('GET', `/api/v1/projects/${pid}/webhooks/${wid}/deliveries`);
  expect(res.status).toBe(200);
  return res.body.items;
}

for (const dialect of dialects()) {
  describe(`consent webhooks (${dialect})`, () => {
    let t: TestApp;
    let now = START;
    const receiver = new Receiver();
    let pid: string;

    beforeAll(async () => {
      await receiver.start();
      t = await startTestApp(dialect, { webhookAllowPrivate: true }, () => now);
      pid = await createProject(t);
    });
    afterAll(async () => {
      await t?.close();
      await receiver.close();
    });

    async function createHook(path: string, events: string[]): Promise<string> {
      const res = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/webhooks`, { url: receiver.url(path), secret: SECRET, events });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id;
    }

    it('a consent change reaches the receiver signed, with the idempotency key as header and payload id', async () => {
      const wid = await createHook('/consent', ['consent.changed']);
      const cid = await newContact(t, pid, 'ana@example.com');
      const put = await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: false, source: 'api:crm-sync' });
      expect(put.status).toBe(200);
      await runDue(t);
      const [got] = receiver.at('/consent');
      expect(got).toBeDefined();
      expect(signatureValid(got!.headers, got!.body, SECRET)).toBe(true);
      expect(signatureValid(got!.headers, got!.body, 'another-secret')).toBe(false);
      const payload = JSON.parse(got!.body) as Record<string, unknown>;
      expect(payload).toMatchObject({ type: 'consent.changed', projectId: pid, contactId: cid, trackingStatus: 'refused', source: 'api:crm-sync' });
      expect(typeof payload.id).toBe('string');
      expect(typeof payload.date).toBe('string');
      expect(got!.headers['x-trackguard-delivery']).toBe(payload.id);
      const [log] = await deliveries(t, pid, wid);
      expect(log).toMatchObject({ status: 'delivered', attempts: 1, eventId: payload.id, lastStatusCode: 200 });
      await t.api('DELETE', `/api/v1/projects/${pid}/webhooks/${wid}`);
    });

    it('a receiver failing twice gets the delivery on the third attempt, each after its back-off, never before', async () => {
      const wid = await createHook('/flaky', ['consent.changed']);
      receiver.script.set('/flaky', [{ status: 500 }, { status: 500 }]);
      const cid = await newContact(t, pid, 'bo@example.com');
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true });
      await runDue(t);
      expect(receiver.at('/flaky')).toHaveLength(1);
      let [log] = await deliveries(t, pid, wid);
      expect(log).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
      const firstRetry = Date.parse(log!.nextAttemptAt!);
      expect(firstRetry).toBeGreaterThan(now);

      now = firstRetry - 1; // not yet due
      await runDue(t);
      expect(receiver.at('/flaky')).toHaveLength(1);
      now = firstRetry;
      await runDue(t);
      expect(receiver.at('/flaky')).toHaveLength(2);
      [log] = await deliveries(t, pid, wid);
      const secondRetry = Date.parse(log!.nextAttemptAt!);
      expect(secondRetry - now).toBeGreaterThan(firstRetry - START); // exponential: the wait grows

      now = secondRetry - 1;
      await runDue(t);
      expect(receiver.at('/flaky')).toHaveLength(2);
      now = secondRetry;
      await runDue(t);
      const got = receiver.at('/flaky');
      expect(got).toHaveLength(3);
      // At least once with one idempotency key: every attempt carries the same payload id.
      expect(new Set(got.map((r) => r.headers['x-trackguard-delivery'])).size).toBe(1);
      expect(got.every((r) => signatureValid(r.headers, r.body, SECRET))).toBe(true);
      [log] = await deliveries(t, pid, wid);
      expect(log).toMatchObject({ status: 'delivered', attempts: 3, nextAttemptAt: null, lastStatusCode: 200 });
      expect(log!.attemptLog.map((a) => a.statusCode)).toEqual([500, 500, 200]);
      await t.api('DELETE', `/api/v1/projects/${pid}/webhooks/${wid}`);
    });

    it('a redirect is not followed: its target gets nothing and the delivery stays failed-and-retrying', async () => {
      const wid = await createHook('/moved', ['consent.changed']);
      receiver.script.set('/moved', [{ status: 302, headers: { location: receiver.url('/elsewhere') } }]);
      const cid = await newContact(t, pid, 'cy@example.com');
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true });
      await runDue(t);
      expect(receiver.at('/moved')).toHaveLength(1);
      expect(receiver.at('/elsewhere')).toHaveLength(0);
      const [log] = await deliveries(t, pid, wid);
      expect(log).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 302 });
      expect(log!.lastError).toMatch(/redirect/);
      await t.api('DELETE', `/api/v1/projects/${pid}/webhooks/${wid}`);
    });

    it('an unsubscribe (RFC 8058 one-click) and an erasure are delivered as contact.unsubscribed and contact.erased', async () => {
      const wid = await createHook('/lifecycle', ['contact.erased', 'contact.unsubscribed']);
      const cid = await newContact(t, pid, 'di@example.com');
      // A consent change is not among this webhook's events.
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true });
      const res = await t.app.inject({
        method: 'POST',
        url: `/f/unsubscribe/${signContactLink(t.config.secrets, 'unsubscribe', Number(pid), Number(cid))}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(res.statusCode).toBe(200);
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/contacts/${cid}`)).status).toBeLessThan(300);
      await runDue(t);
      const bodies = receiver.at('/lifecycle').map((r) => JSON.parse(r.body) as Record<string, unknown>);
      expect(bodies.map((b) => b.type)).toEqual(['contact.unsubscribed', 'contact.erased']);
      expect(bodies.every((b) => b.contactId === cid && b.trackingStatus === 'accepted')).toBe(true);
      expect(bodies[1]!.source).toBe('erasure');
      expect((await deliveries(t, pid, wid)).every((d) => d.status === 'delivered')).toBe(true);
      await t.api('DELETE', `/api/v1/projects/${pid}/webhooks/${wid}`);
    });

    it('deleting a webhook stops its queued deliveries', async () => {
      const wid = await createHook('/deleted', ['consent.changed']);
      receiver.script.set('/deleted', [{ status: 503 }]);
      const cid = await newContact(t, pid, 'ed@example.com');
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: false });
      await runDue(t);
      expect(receiver.at('/deleted')).toHaveLength(1);
      const [log] = await deliveries(t, pid, wid);
      expect(log!.status).toBe('pending');
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/webhooks/${wid}`)).status).toBe(204);
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true });
      now += 48 * 3600_000;
      await runDue(t);
      expect(receiver.at('/deleted')).toHaveLength(1);
      expect((await t.api('GET', `/api/v1/projects/${pid}/webhooks/${wid}/deliveries`)).status).toBe(404);
    });

    it('the secret is in no GET, list or PATCH answer', async () => {
      const created = await t.api<Record<string, unknown>>('POST', `/api/v1/projects/${pid}/webhooks`, { url: receiver.url('/s'), secret: SECRET, events: ['consent.changed'] });
      expect(created.status).toBe(201);
      const wid = String(created.body.id);
      const answers = [
        created,
        await t.api('GET', `/api/v1/projects/${pid}/webhooks`),
        await t.api('GET', `/api/v1/projects/${pid}/webhooks/${wid}`),
        await t.api('PATCH', `/api/v1/projects/${pid}/webhooks/${wid}`, { events: ['consent.changed', 'contact.erased'] }),
        await t.api('GET', `/api/v1/projects/${pid}/webhooks/${wid}/deliveries`),
      ];
      for (const answer of answers) {
        expect(answer.status).toBeLessThan(300);
        expect(JSON.stringify(answer.body)).not.toContain(SECRET);
      }
      const one = await t.api<{ events: string[] }>('GET', `/api/v1/projects/${pid}/webhooks/${wid}`);
      expect(one.body.events).toEqual(['consent.changed', 'contact.erased']);
      await t.api('DELETE', `/api/v1/projects/${pid}/webhooks/${wid}`);
    });
  });

  describe(`webhook receivers are checked against SSRF (${dialect})`, () => {
    let t: TestApp;
    const now = START;
    const receiver = new Receiver();
    let pid: string;

    beforeAll(async () => {
      await receiver.start();
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t);
    });
    afterAll(async () => {
      await t?.close();
      await receiver.close();
    });

    it('a loopback, private or mapped-loopback URL is refused at save with a 400 naming url', async () => {
      for (const url of [receiver.url(), 'http://10.0.0.8/hook', 'http://[::1]/hook', 'http://[::ffff:127.0.0.1]/hook', 'http://169.254.169.254/latest', 'http://0.0.0.0/', 'http://localhost/hook', 'ftp://example.com/']) {
        const res = await t.api<{ errors?: { field: string }[] }>('POST', `/api/v1/projects/${pid}/webhooks`, { url, secret: SECRET, events: ['consent.changed'] });
        expect(res.status, url).toBe(400);
        expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
        expect(res.body.errors?.map((e) => e.field), url).toContain('url');
      }
      expect((await t.api<{ items: unknown[] }>('GET', `/api/v1/projects/${pid}/webhooks`)).body.items).toHaveLength(0);
    });

    it('a public host name that resolves to 127.0.0.1 at delivery time (DNS rebinding) is refused then, nothing is sent', async () => {
      let answer = ['93.184.216.34'];
      t.ctx.webhooks.resolve = async () => answer;
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/webhooks`, { url: `http://hooks.example.com:${receiver.port}/rebound`, secret: SECRET, events: ['consent.changed'] });
      expect(created.status).toBe(201);
      answer = ['127.0.0.1'];
      const cid = await newContact(t, pid, 'fu@example.com');
      await t.api('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: true });
      await runDue(t);
      expect(receiver.received).toHaveLength(0);
      const [log] = await deliveries(t, pid, created.body.id);
      expect(log).toMatchObject({ attempts: 1, lastStatusCode: null });
      expect(log!.lastError).toMatch(/refused/);
    });
  });
}
