// A marketer compares a group's count with the sending to that group (issue 12 item 9): when they differ, the
// sending must say why, per reason, and the figures must add up exactly — each contact counted once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface Excluded {
  unsubscribed: number;
  quarantined: number;
  noAddress: number;
}

interface SendingBody {
  id: string;
  status: string;
  targeted: number;
  delivered: number;
  excluded: Excluded | null;
}

interface ReportBody {
  recipients: { targeted: number; delivered: number };
  excluded: Excluded | null;
}

const sum = (e: Excluded | null) => (e ? e.unsubscribed + e.quarantined + e.noAddress : Number.NaN);

for (const dialect of dialects()) {
  describe(`a group's count reconciles with its sending (${dialect})`, () => {
    let now = Date.UTC(2026, 11, 1, 9);
    let t: TestApp;
    let pid: string;
    let email: string;
    let sms: string;
    const ids = new Map<string, string>();
    const base = () => `/api/v1/projects/${pid}`;
    const drain = async () => {
      while (await t.ctx.jobs.runOnce()) {
        // every due step
      }
    };
    const merge = async (records: Record<string, unknown>[]) => {
      const res = await t.api<{ results: { contactId?: string; result: string }[] }>('POST', `${base()}/contacts/merge`, { records });
      expect(res.status).toBe(200);
      return res.body.results;
    };
    const groupOf = async (criteria: unknown, type: 'dynamic' | 'static' = 'dynamic') =>
      (await t.api<{ id: string }>('POST', `${base()}/groups`, { name: `g-${Math.random()}`, type, criteria })).body.id;
    const countOf = async (gid: string) => (await t.api<{ count: number }>('GET', `${base()}/groups/${gid}/count`)).body.count;
    const send = async (messageId: string, target: unknown, extra: Record<string, unknown> = {}) => {
      const res = await t.api<SendingBody>('POST', `${base()}/sendings`, { messageId, target, ...extra });
      expect(res.status).toBe(201);
      return res.body;
    };
    const sending = async (sid: string) => (await t.api<SendingBody>('GET', `${base()}/sendings/${sid}`)).body;
    const report = async (sid: string) => (await t.api<ReportBody>('GET', `${base()}/sendings/${sid}/report`)).body;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t);
      const people: [string, Record<string, unknown>][] = [
        ['active', { email: 'a1@example.com', phone: '+33600000001' }],
        ['activeNoPhone', { email: 'a2@example.com' }],
        ['unsubscribed', { email: 'u1@example.com', status: 'inactive' }],
        // unsubscribed and without an email address: counted once, as unsubscribed
        ['unsubscribedNoEmail', { externalId: 'u2', status: 'inactive' }],
        ['quarantined', { email: 'q1@example.com', phone: '+33600000005', status: 'quarantine' }],
        ['quarantinedNoEmail', { externalId: 'q2', status: 'quarantine' }],
        ['noEmail', { externalId: 'n1', phone: '+33600000007' }],
      ];
      const results = await merge(people.map(([, r]) => ({ ...r, fields: { team: 'a' } })));
      for (const [i, [name]] of people.entries()) ids.set(name, results[i]!.contactId!);
      await merge([{ email: 'b1@example.com', fields: { team: 'b' } }]);
      const message = (body: Record<string, unknown>) => t.api<{ id: string }>('POST', `${base()}/messages`, { name: 'n', communicationType: 'newsletter', ...body });
      email = (await message({ channel: 'email', subject: 'S', text: 'hi https://example.com/a' })).body.id;
      sms = (await message({ channel: 'sms', text: 'hi https://example.com/a' })).body.id;
    });
    afterAll(() => t?.close());

    it("a group's count = the sending's targeted + its excluded, per reason, on the sending and in its report", async () => {
      const gid = await groupOf({ field: 'fields.team', op: 'eq', value: 'a' });
      expect(await countOf(gid)).toBe(7);
      const created = await send(email, { groupId: gid });
      expect(created.targeted).toBe(2);
      expect(created.excluded).toEqual({ unsubscribed: 2, quarantined: 2, noAddress: 1 });
      await drain();
      const done = await sending(created.id);
      expect(done).toMatchObject({ status: 'sent', targeted: 2, delivered: 2, excluded: { unsubscribed: 2, quarantined: 2, noAddress: 1 } });
      const r = await report(created.id);
      expect(r.excluded).toEqual(done.excluded);
      expect(r.recipients.targeted + sum(r.excluded)).toBe(await countOf(gid));
    });

    it("no address depends on the message's channel: an SMS needs a phone", async () => {
      const gid = await groupOf({ field: 'fields.team', op: 'eq', value: 'a' });
      const created = await send(sms, { groupId: gid });
      // a1 and n1 have a phone; a2 has none; the quarantined one with a phone counts as quarantined
      expect(created).toMatchObject({ targeted: 2, excluded: { unsubscribed: 2, quarantined: 2, noAddress: 1 } });
      expect(created.targeted + sum(created.excluded)).toBe(await countOf(gid));
      await drain();
      expect((await sending(created.id)).delivered).toBe(2);
    });

    it('a group of only quarantined contacts reaches nobody and says why; a static group reconciles too', async () => {
      const quarantine = await groupOf({ field: 'status', op: 'eq', value: 'quarantine' });
      const none = await send(email, { groupId: quarantine });
      expect(none).toMatchObject({ targeted: 0, excluded: { unsubscribed: 0, quarantined: 2, noAddress: 0 } });
      const snapshot = await groupOf({ field: 'fields.team', op: 'in', value: ['a', 'b'] }, 'static');
      const created = await send(email, { groupId: snapshot });
      expect(created).toMatchObject({ targeted: 3, excluded: { unsubscribed: 2, quarantined: 2, noAddress: 1 } });
      expect(created.targeted + sum(created.excluded)).toBe(await countOf(snapshot));
    });

    it('all contacts and a list of ids are counted the same way', async () => {
      const all = await send(email, { all: true });
      expect(all).toMatchObject({ targeted: 3, excluded: { unsubscribed: 2, quarantined: 2, noAddress: 1 } });
      expect(all.targeted + sum(all.excluded)).toBe(8); // every contact of the project
      const list = await send(email, { contactIds: [ids.get('active'), ids.get('unsubscribed'), ids.get('noEmail')] });
      expect(list).toMatchObject({ targeted: 1, excluded: { unsubscribed: 1, quarantined: 0, noAddress: 1 } });
    });

    it('a scheduled sending counts its target again when it starts, against the group as it is then', async () => {
      const gid = await groupOf({ field: 'fields.team', op: 'eq', value: 'a' });
      const scheduled = await send(email, { groupId: gid }, { scheduledAt: new Date(now + 3_600_000).toISOString() });
      expect(scheduled).toMatchObject({ targeted: 2, excluded: { unsubscribed: 2, quarantined: 2, noAddress: 1 } });
      // Before it starts: one active contact unsubscribes, one joins without an email address, one joins reachable.
      await merge([
        { email: 'a2@example.com', status: 'inactive' },
        { externalId: 'late-n', fields: { team: 'a' } },
        { email: 'late@example.com', fields: { team: 'a' } },
      ]);
      now += 3_600_000 + 1000;
      await drain();
      const done = await sending(scheduled.id);
      expect(done).toMatchObject({ status: 'sent', targeted: 2, delivered: 2, excluded: { unsubscribed: 3, quarantined: 2, noAddress: 2 } });
      expect(done.targeted + sum(done.excluded)).toBe(await countOf(gid));
      const r = await report(scheduled.id);
      expect(r.recipients.targeted + sum(r.excluded)).toBe(await countOf(gid));
    });

    it('a sending counted before exclusions were recorded says null, not zero', async () => {
      const created = await send(email, { all: true });
      await t.ctx.store.db
        .updateTable('sendings')
        .set({ excluded_unsubscribed: null, excluded_quarantined: null, excluded_no_address: null })
        .where('id', '=', Number(created.id))
        .execute();
      expect((await sending(created.id)).excluded).toBeNull();
      expect((await report(created.id)).excluded).toBeNull();
      await drain();
    });
  });
}
