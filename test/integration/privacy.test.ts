// Access request and erasure (SPEC §7): the export must hold everything, and erasure must remove
// the person while the consent proof (hash chain, salted email hash) and report totals stay coherent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/services/event-writer.js';
import { verifyLedgers } from '../../src/services/ledger.service.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const IP = '198.51.100.23';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';
const WEB_EVENTS = 230;

interface ExportDoc {
  contact: { id: string; email: string };
  consentHistory: { ip?: string; userAgent?: string; source: string; hash: string }[];
  deliveries: { sendingId: string; status: string }[];
  events: { type: string; sendingId: string | null; ip: string | null }[];
  campaigns: { campaignId: string; state: string }[];
  groups: { groupId: string }[];
  scores: Record<string, number>;
}

interface Receipt {
  contactId: string;
  erasedAt: string;
  removed: Record<string, number>;
  anonymised: { consentEntries: number };
  suppressed: boolean;
  ledger: { seq: number; hash: string };
}

interface Report {
  opens: { total: number; machine: number; unique: number };
  clicks: { total: number; machine: number; unique: number };
  links: { total: number; machine: number }[];
}

for (const dialect of dialects()) {
  describe(`privacy operations (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let otherPid: string;
    let ana: number;
    let bo: number;
    let sendingId: number;
    let messageId: number;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      otherPid = await createProject(t, { tracking: { enabled: true } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', hasTrackingConsent: true, dtTrackingConsent: '2024-01-01', fields: { firstName: 'Ana' } },
          { email: 'bo@example.com', hasTrackingConsent: true, dtTrackingConsent: '2024-01-01' },
        ],
      });
      [ana, bo] = merged.body.results.map((r) => Number(r.contactId)) as [number, number];
      // A form acceptance carries IP and user agent into the ledger.
      await t.ctx.consent.setConsent(Number(pid), ana, { value: true, date: Date.parse('2024-02-01'), source: 'form:1', ip: IP, userAgent: UA });

      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, {
        channel: 'email',
        name: 'News',
        communicationType: 'newsletter',
        subject: 'Hi',
        html: '<html><body><a href="https://example.com/a">A</a></body></html>',
      });
      messageId = Number(message.body.id);
      const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { contactIds: [String(ana), String(bo)] } });
      expect(sending.status).toBe(201);
      sendingId = Number(sending.body.id);
      while (await t.ctx.jobs.runOnce()) {
        // drain the sending
      }

      const base = { project_id: Number(pid), sending_id: sendingId, message_id: messageId, channel: 'email', at: Date.now(), machine: 0 };
      const events: NewEvent[] = [
        { ...base, type: 'open', contact_id: ana, ip: IP, user_agent: UA },
        { ...base, type: 'open', contact_id: ana, machine: 1 },
        { ...base, type: 'click', contact_id: ana, link_idx: 1, ip: IP, user_agent: UA },
        { ...base, type: 'click', contact_id: ana, link_idx: 1, machine: 1 },
        { ...base, type: 'open', contact_id: bo },
        { ...base, type: 'click', contact_id: bo, link_idx: 1 },
        { ...base, type: 'open', contact_id: null, nonce: 'anon-nonce-1' },
        { ...base, type: 'click', contact_id: null, nonce: 'anon-nonce-1', link_idx: 1 },
      ];
      for (let i = 0; i < WEB_EVENTS; i++) {
        events.push({ project_id: Number(pid), type: 'web', contact_id: ana, name: `page-${i}`, url: `https://example.com/p/${i}`, at: Date.now(), machine: 0 });
      }
      await Promise.all(events.map((e) => t.ctx.events.write(e)));
      await t.ctx.events.flush();

      const group = await t.api('POST', `/api/v1/projects/${pid}/groups`, { name: 'everyone', type: 'static', criteria: { field: 'email', op: 'endsWith', value: '@example.com' } });
      expect(group.status).toBe(201);
      // Campaign membership rows as the campaign runner writes them.
      const now = Date.now();
      for (const contactId of [ana, bo]) {
        await t.ctx.store.db
          .insertInto('campaign_contacts')
          .values({ project_id: Number(pid), campaign_id: 7, contact_id: contactId, node_id: 'n1', state: 'active', next_run_at: now, lease_until: 0, entered_at: now, updated_at: now })
          .execute();
      }
    });
    afterAll(async () => t?.close());

    const count = async (table: 'events' | 'deliveries' | 'campaign_contacts' | 'group_members', contactId: number | null) => {
      const rows = await t.ctx.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', Number(pid))
        .where('contact_id', contactId === null ? 'is' : '=', contactId)
        .executeTakeFirstOrThrow();
      return Number(rows.n);
    };

    it('exports the card, consent history with IP, every identified event, deliveries, memberships and scores as an attachment', async () => {
      const res = await t.api<ExportDoc>('GET', `/api/v1/projects/${pid}/contacts/${ana}/export`);
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="contact-${ana}.json"`);
      const doc = res.body;
      expect(doc.contact).toMatchObject({ id: String(ana), email: 'ana@example.com' });
      expect(doc.consentHistory.length).toBe(2);
      expect(doc.consentHistory[1]).toMatchObject({ source: 'form:1', ip: IP, userAgent: UA });
      // More than the contact card's 200: the export is complete.
      expect(doc.events.length).toBe(WEB_EVENTS + 4);
      expect(doc.events.filter((e) => e.sendingId === String(sendingId)).length).toBe(4);
      expect(doc.events.some((e) => e.ip === IP)).toBe(true);
      expect(doc.deliveries).toEqual([expect.objectContaining({ sendingId: String(sendingId) })]);
      expect(doc.campaigns).toEqual([expect.objectContaining({ campaignId: '7', state: 'active' })]);
      expect(doc.groups.length).toBe(1);
      expect(doc.scores).toEqual({});
    });

    it("answers 404 for another project's contact, and for a key of another project", async () => {
      expect((await t.api('GET', `/api/v1/projects/${otherPid}/contacts/${ana}/export`)).status).toBe(404);
      expect((await t.api('DELETE', `/api/v1/projects/${otherPid}/contacts/${ana}`)).status).toBe(404);
      const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${otherPid}/keys`, { name: 'other' });
      expect(key.status).toBe(201);
      expect((await t.api('GET', `/api/v1/projects/${pid}/contacts/${ana}/export`, undefined, key.body.key)).status).toBe(404);
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/contacts/${ana}`, undefined, key.body.key)).status).toBe(404);
      expect(await count('events', ana)).toBe(WEB_EVENTS + 4);
    });

    describe('after erasure', () => {
      let before: Report;
      let historyBefore: { id: number; hash: string; subject_hash: string | null }[];
      let receipt: Receipt;

      beforeAll(async () => {
        before = (await t.api<Report>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}/report`)).body;
        historyBefore = await t.ctx.store.db
          .selectFrom('consent_history')
          .select(['id', 'hash', 'subject_hash'])
          .where('project_id', '=', Number(pid))
          .where('contact_id', '=', ana)
          .orderBy('seq')
          .execute();
        const res = await t.api<Receipt>('DELETE', `/api/v1/projects/${pid}/contacts/${ana}`);
        expect(res.status).toBe(200);
        receipt = res.body;
      });

      it('answers a receipt: what was removed and anonymised, when, and the ledger position of the erasure entry', async () => {
        expect(receipt).toMatchObject({
          contactId: String(ana),
          removed: { events: WEB_EVENTS + 4, deliveries: 1, campaignMemberships: 1, groupMemberships: 1, pendingRequests: 0 },
          anonymised: { consentEntries: 2 },
          suppressed: true,
        });
        expect(Date.parse(receipt.erasedAt)).toBeGreaterThan(0);
        const head = await t.ctx.store.db.selectFrom('ledger_heads').selectAll().where('project_id', '=', Number(pid)).executeTakeFirstOrThrow();
        expect(receipt.ledger).toEqual({ seq: Number(head.seq), hash: head.hash });
        const entry = await t.ctx.store.db.selectFrom('consent_history').selectAll().where('project_id', '=', Number(pid)).where('seq', '=', receipt.ledger.seq).executeTakeFirstOrThrow();
        expect(entry).toMatchObject({ action: 'erased', contact_id: null, hash: receipt.ledger.hash, subject_hash: historyBefore[0]!.subject_hash });
      });

      it('removes the contact, its identified events, deliveries and memberships; a second erasure is 404', async () => {
        expect((await t.api('GET', `/api/v1/projects/${pid}/contacts/${ana}`)).status).toBe(404);
        expect((await t.api('GET', `/api/v1/projects/${pid}/contacts/${ana}/export`)).status).toBe(404);
        for (const table of ['events', 'deliveries', 'campaign_contacts', 'group_members'] as const) {
          expect(await count(table, ana)).toBe(0);
        }
        expect((await t.api('DELETE', `/api/v1/projects/${pid}/contacts/${ana}`)).status).toBe(404);
      });

      it("leaves other recipients' events, deliveries and memberships and anonymous events untouched", async () => {
        expect(await count('events', bo)).toBe(2);
        expect(await count('events', null)).toBe(2);
        expect(await count('deliveries', bo)).toBe(1);
        expect(await count('campaign_contacts', bo)).toBe(1);
        expect(await count('group_members', bo)).toBe(1);
      });

      it('takes the erased events out of the sending report totals, which again match the events table', async () => {
        const after = (await t.api<Report>('GET', `/api/v1/projects/${pid}/sendings/${sendingId}/report`)).body;
        expect(before.opens).toMatchObject({ total: 4, machine: 1 });
        expect(after.opens).toMatchObject({ total: 2, machine: 0, unique: 2 });
        expect(after.clicks).toMatchObject({ total: 2, machine: 0, unique: 2 });
        expect(after.links[0]).toMatchObject({ total: 2, machine: 0 });
        const rows = await t.ctx.store.db
          .selectFrom('events')
          .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
          .where('project_id', '=', Number(pid))
          .where('sending_id', '=', sendingId)
          .groupBy('type')
          .execute();
        const inTable = Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
        expect(after.opens.total).toBe(inTable.open);
        expect(after.clicks.total).toBe(inTable.click);
      });

      it('keeps the consent entries with their hashes and salted email hash, without contact id, IP or user agent', async () => {
        const rows = await t.ctx.store.db
          .selectFrom('consent_history')
          .selectAll()
          .where('id', 'in', historyBefore.map((h) => h.id))
          .orderBy('seq')
          .execute();
        expect(rows.length).toBe(2);
        rows.forEach((row, i) => {
          expect(row).toMatchObject({ erased: 1, contact_id: null, ip: null, user_agent: null, hash: historyBefore[i]!.hash });
          expect(row.subject_hash).toMatch(/^[0-9a-f]{64}$/);
          expect(row.subject_hash).toBe(historyBefore[i]!.subject_hash);
        });
      });

      it('leaves every ledger chain intact', async () => {
        const reports = await verifyLedgers(t.ctx.store.db);
        expect(reports.find((r) => r.projectId === Number(pid))?.entries).toBeGreaterThanOrEqual(4);
        expect(reports.filter((r) => r.broken !== null)).toEqual([]);
      });
    });
  });
}
