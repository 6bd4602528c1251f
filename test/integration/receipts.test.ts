// A consent receipt is the person's own proof of what they chose: it must verify against the ledger and the
// published key, and fail on any altered byte, another key, an entry erased since, or another person's link.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, type Receipt, renderReceipt, signReceipt } from '../../src/domain/receipt.js';
import { signContactLink } from '../../src/domain/signed-link.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const UA = 'Mozilla/5.0 (receipts test)';

function runVerify(t: TestApp, file: string, extra: string[] = []): Promise<{ code: number; output: string }> {
  const env = { ...process.env, TRACKGUARD_DATA_DIR: t.config.dataDir, DATABASE_URL: t.config.databaseUrl ?? '', TRACKGUARD_SECRET: 'test-secret', LOG_LEVEL: 'warn' };
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'receipt', 'verify', file, ...extra], { cwd: ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

async function newContact(t: TestApp, pid: string, email: string): Promise<number> {
  const res = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email }] });
  return Number(res.body.results[0]!.contactId);
}

/** Opens the contact's tracking opt-out page, presses "refuse", and returns the confirmation page. */
async function optOut(t: TestApp, pid: string, cid: number): Promise<string> {
  const url = `/f/tracking-optout/${signContactLink(t.config.secrets, 'tracking-optout', Number(pid), cid)}`;
  const page = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': UA } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const res = await t.app.inject({
    method: 'POST',
    url: `${url}?lang=en`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
    payload: new URLSearchParams({ csrf, action: 'refuse' }).toString(),
  });
  expect(res.statusCode).toBe(200);
  return res.body;
}

const receiptHref = (page: string): string => {
  const match = /<a href="(\/f\/receipt\/[^"]+)" type="application\/json" download>[^<]*receipt[^<]*<\/a>/.exec(page);
  expect(match).not.toBeNull();
  return match![1]!;
};

for (const dialect of dialects()) {
  describe(`consent receipts (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true }, branding: { name: 'Acme', contact: 'privacy@acme.example' } });
    });
    afterAll(async () => t?.close());

    const write = (name: string, text: string): string => {
      const file = join(t.config.dataDir, name);
      writeFileSync(file, text);
      return file;
    };

    it('a receipt from the tracking opt-out page verifies with the CLI and the published key', async () => {
      const cid = await newContact(t, pid, 'ana@example.com');
      const page = await optOut(t, pid, cid);
      const res = await t.app.inject({ method: 'GET', url: receiptHref(page) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['set-cookie']).toBeUndefined();
      const receipt = JSON.parse(res.body) as Receipt;
      expect(receipt.receipt).toMatchObject({
        controller: { name: 'Acme', contact: 'privacy@acme.example' },
        subject: { email: 'ana@example.com' },
        purpose: { description: 'behavioural tracking of messages' },
        event: { action: 'refused', source: 'tracking-optout-form' },
      });
      expect(receipt.receipt.subject.identifier).toMatch(/^[0-9a-f]{64}$/);
      expect(receipt.receipt.event.noticeHash).toMatch(/^[0-9a-f]{64}$/);
      const entry = await t.ctx.store.db.selectFrom('consent_history').selectAll().where('project_id', '=', Number(pid)).where('seq', '=', receipt.receipt.ledger.position).executeTakeFirstOrThrow();
      expect(entry).toMatchObject({ contact_id: cid, hash: receipt.receipt.ledger.entryHash, action: 'refused' });

      const key = await t.app.inject({ method: 'GET', url: '/.well-known/trackguard-receipt-key' });
      expect(key.statusCode).toBe(200);
      const jwk = key.json() as { kid: string; x: string };
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: receipt.signature.keyId });
      const file = write('ok.json', res.body);
      const run = await runVerify(t, file);
      expect(run.output).toMatch(/receipt verify: ok/);
      expect(run.code).toBe(0);
      const withKey = await runVerify(t, file, ['--key', write('key.json', key.body)]);
      expect(withKey.code).toBe(0);
      // The same link gives the same bytes: a receipt is a fixed document, not a fresh one each time.
      expect((await t.app.inject({ method: 'GET', url: receiptHref(page) })).body).toBe(res.body);
    });

    it('one altered byte fails, wherever it is', async () => {
      const cid = await newContact(t, pid, 'ben@example.com');
      const text = (await t.app.inject({ method: 'GET', url: receiptHref(await optOut(t, pid, cid)) })).body;
      const inValue = text.replace('"refused"', '"accepted"');
      const inSpace = text.replace('{\n  "receipt"', '{\n   "receipt"');
      const inEmail = text.replace('ben@example.com', 'bem@example.com');
      for (const [name, altered] of [['value', inValue], ['space', inSpace], ['email', inEmail]] as const) {
        expect(altered).not.toBe(text);
        const run = await runVerify(t, write(`altered-${name}.json`, altered));
        expect(run.code, name).toBe(1);
        expect(run.output).toMatch(/FAILED: .*(altered|signature)/);
      }
    });

    it("an erased contact's receipt fails (entry erased)", async () => {
      const cid = await newContact(t, pid, 'cleo@example.com');
      const text = (await t.app.inject({ method: 'GET', url: receiptHref(await optOut(t, pid, cid)) })).body;
      expect((await runVerify(t, write('before-erasure.json', text))).code).toBe(0);
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/contacts/${cid}`)).status).toBeLessThan(300);
      const run = await runVerify(t, write('erased.json', text));
      expect(run.code).toBe(1);
      expect(run.output).toContain('entry erased');
    });

    it('a receipt signed by another key fails', async () => {
      const cid = await newContact(t, pid, 'dan@example.com');
      const issued = JSON.parse((await t.app.inject({ method: 'GET', url: receiptHref(await optOut(t, pid, cid)) })).body) as Receipt;
      const { privateKey } = generateKeyPairSync('ed25519');
      // Same content and key id, another key: a forger who kept the format.
      const forged = signReceipt(issued.receipt, privateKey, issued.signature.keyId, issued.signature.keyUrl);
      expect(canonicalJson(forged.receipt)).toBe(canonicalJson(issued.receipt));
      const run = await runVerify(t, write('forged.json', renderReceipt(forged)));
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/signature does not match/);
      const otherKid = signReceipt(issued.receipt, privateKey, 'another-key', issued.signature.keyUrl);
      const other = await runVerify(t, write('other-kid.json', renderReceipt(otherKid)));
      expect(other.code).toBe(1);
      expect(other.output).toMatch(/signed by another key/);
    });

    it("the download link of one contact's receipt cannot fetch another's", async () => {
      const eve = await newContact(t, pid, 'eve@example.com');
      const fay = await newContact(t, pid, 'fay@example.com');
      const eveHref = receiptHref(await optOut(t, pid, eve));
      const fayHref = receiptHref(await optOut(t, pid, fay));
      const fayReceipt = JSON.parse((await t.app.inject({ method: 'GET', url: fayHref })).body) as Receipt;
      // Eve's link with Fay's chain position, or with Fay's contact id: the MAC no longer matches.
      const [projectId, contactId, seq, exp, mac] = eveHref.slice('/f/receipt/'.length).split('.') as [string, string, string, string, string];
      const tries = [
        `/f/receipt/${projectId}.${contactId}.${fayReceipt.receipt.ledger.position}.${exp}.${mac}`,
        `/f/receipt/${projectId}.${fay}.${fayReceipt.receipt.ledger.position}.${exp}.${mac}`,
        `/f/receipt/${projectId}.${contactId}.${seq}.${exp}.${mac.slice(0, -2)}AA`,
      ];
      for (const url of tries) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(404);
        expect(res.body).not.toContain('fay@example.com');
      }
      // A link signed for Eve but naming Fay's entry (a leaked secret would be needed): the entry is not Eve's.
      const signed = t.ctx.receipts.linkPath(Number(pid), eve, fayReceipt.receipt.ledger.position, Date.now());
      expect((await t.app.inject({ method: 'GET', url: signed })).statusCode).toBe(404);
    });

    it('the unsubscribe page gives a receipt of the unsubscription', async () => {
      const cid = await newContact(t, pid, 'gus@example.com');
      const url = `/f/unsubscribe/${signContactLink(t.config.secrets, 'unsubscribe', Number(pid), cid)}`;
      const page = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': UA } });
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const res = await t.app.inject({ method: 'POST', url: `${url}?lang=fr`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA }, payload: new URLSearchParams({ csrf }).toString() });
      expect(res.body).toMatch(/reçu/);
      const text = (await t.app.inject({ method: 'GET', url: /<a href="(\/f\/receipt\/[^"]+)"/.exec(res.body)![1]! })).body;
      expect(JSON.parse(text).receipt.event).toMatchObject({ action: 'unsubscribed' });
      expect((await runVerify(t, write('unsubscribed.json', text))).code).toBe(0);
    });
  });
}
