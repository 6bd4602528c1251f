// A withdrawal on one process must hold on every other process for every hit recorded after it commits, and a
// hit queued just before it must not stay linked after its reach-back (SPEC §2 rules 4 and 11, §8): caches lie.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import { signToken } from '../../src/domain/token.js';
import { createProject, dialects, freshDatabase, startTestApp, type TestApp } from '../helpers/harness.js';

const ROUNDS = 12;
const CONTACTS = 6;
const BURST = 6;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';

for (const dialect of dialects()) {
  describe(`consent is exact across processes (${dialect})`, () => {
    let t: TestApp;
    let other: AppContext;
    let dropOther: () => Promise<void> = async () => undefined;
    const projects: { pid: number; sendingId: number; contacts: number[]; anonymizePast: boolean }[] = [];
    let lastDate = 0;
    const nextDate = () => {
      lastDate = Math.max(lastDate + 1, Date.now());
      return lastDate;
    };

    beforeAll(async () => {
      t = await startTestApp(dialect);
      // A second context on the same database: on PostgreSQL its own pool and data dir, as another server
      // process has; on SQLite the same file through its own connections and writer thread.
      const extra = dialect === 'postgres' ? await freshDatabase('sqlite') : undefined;
      dropOther = extra?.drop ?? dropOther;
      other = await createContext(loadConfig({}, { ...t.config, dataDir: extra?.dataDir ?? t.config.dataDir }));
      await t.ctx.changes.listen();
      await other.changes.listen();
      for (const anonymizePast of [true, false]) {
        const pid = Number(await createProject(t, { tracking: { enabled: true, mode: 'opt-out', anonymizePastOnRefusal: anonymizePast } }));
        const records = Array.from({ length: CONTACTS }, (_, i) => ({ email: `c${i}-${randomBytes(2).toString('hex')}@example.com` }));
        const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records });
        const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'm', communicationType: 'newsletter', subject: 's', html: '<a href="https://example.com/x">x</a>' });
        const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { all: true } });
        while (await t.ctx.jobs.runOnce()) {
          // drain
        }
        projects.push({ pid, sendingId: Number(sending.body.id), contacts: merged.body.results.map((r) => Number(r.contactId)), anonymizePast });
      }
    });
    afterAll(async () => {
      await other?.close();
      await dropOther();
      await t?.close();
    });

    const click = (ctx: AppContext, sendingId: number, contactId: number, tag: string) =>
      ctx.tracking.hit('click', signToken(t.config.secrets[0]!, { kind: 'click', sendingId, linkIdx: 1, recipient: { contactId } }), {
        method: 'GET',
        userAgent: `${UA} ${tag}`,
        ip: '203.0.113.9',
        headers: {},
      });
    const burst = (sendingId: number, contactId: number, tag: string) =>
      Promise.all(Array.from({ length: BURST }, (_, i) => click(i % 2 === 0 ? t.ctx : other, sendingId, contactId, tag)));

    it('records no hit identified after a withdrawal committed on the other process, and leaves none linked after reach-back', async () => {
      let sent = 0;
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(
          projects.flatMap((p) =>
            p.contacts.map(async (cid, i) => {
              // Consent changes alternate between the processes on PostgreSQL. On SQLite two contexts in one test
              // process share one event loop: a synchronous busy wait on one's connection would stall the
              // other's open transaction, so only the first changes consent (the writer threads of both record).
              const [here, there] = dialect === 'postgres' && (round + i) % 2 === 1 ? [other, t.ctx] : [t.ctx, other];
              // Tracked again (and cached as such on both processes by a first hit each).
              await here.consent.setConsent(p.pid, cid, { value: true, date: nextDate(), source: 'api:test' });
              await Promise.all([click(here, p.sendingId, cid, 'warm'), click(there, p.sendingId, cid, 'warm')]);
              // Hits on both processes race the withdrawal on one of them...
              await Promise.all([burst(p.sendingId, cid, 'during'), here.consent.setConsent(p.pid, cid, { value: false, date: nextDate(), source: 'api:test' })]);
              // ...and every hit made after it committed, on either process, must be anonymous.
              await burst(p.sendingId, cid, `after-${round}`);
              sent += 2 + 2 * BURST;
              // Written (committed) before the next change: an event is decided when its batch commits.
              await Promise.all([t.ctx.events.flush(), other.events.flush()]);
              if ((round + i) % 3 === 0) return;
              // Some contacts end the round tracked again, for the next one.
              await (dialect === 'postgres' ? there : here).consent.setConsent(p.pid, cid, { value: true, date: nextDate(), source: 'api:test' });
            }),
          ),
        );
      }
      await Promise.all([t.ctx.events.flush(), other.events.flush()]);
      const db = t.ctx.store.db;
      const events = await db.selectFrom('events').select(['project_id', 'contact_id', 'user_agent']).where('type', '=', 'click').execute();
      expect(events).toHaveLength(sent);
      const identifiedAfter = events.filter((e) => e.contact_id !== null && (e.user_agent ?? '').includes(' after-'));
      expect(identifiedAfter).toEqual([]);
      // Reach-back: in the anonymising project, no contact untracked now keeps an identified event.
      const reaching = projects.find((p) => p.anonymizePast)!;
      const untracked = await db.selectFrom('contacts').select('id').where('project_id', '=', reaching.pid).where('has_tracking_consent', '=', 0).execute();
      expect(untracked.length).toBeGreaterThan(0);
      const linked = events.filter((e) => e.project_id === reaching.pid && untracked.some((c) => c.id === e.contact_id));
      expect(linked).toEqual([]);
      // The test records both kinds, so it can fail either way.
      expect(events.filter((e) => e.contact_id !== null).length).toBeGreaterThan(0);
      expect(events.filter((e) => e.contact_id === null).length).toBeGreaterThan(0);
    });

    it('leaves no event of an erased contact, whatever the other process was recording', async () => {
      const p = projects[0]!;
      const cid = p.contacts[0]!;
      await t.ctx.consent.setConsent(p.pid, cid, { value: true, date: nextDate(), source: 'api:test' });
      await Promise.all([burst(p.sendingId, cid, 'erase'), t.ctx.privacy.eraseContact(p.pid, cid), burst(p.sendingId, cid, 'erase')]);
      await Promise.all([t.ctx.events.flush(), other.events.flush()]);
      const left = await t.ctx.store.db.selectFrom('events').select('id').where('project_id', '=', p.pid).where('contact_id', '=', cid).execute();
      expect(left).toEqual([]);
    });

    it('records the hits of a contact who is tracked again as identified on both processes', async () => {
      const p = projects[1]!;
      const cid = p.contacts[1]!;
      const changer = dialect === 'postgres' ? other : t.ctx;
      await changer.consent.setConsent(p.pid, cid, { value: false, date: nextDate(), source: 'api:test' });
      await Promise.all([click(t.ctx, p.sendingId, cid, 'warm'), click(other, p.sendingId, cid, 'warm')]);
      await Promise.all([t.ctx.events.flush(), other.events.flush()]);
      await changer.consent.setConsent(p.pid, cid, { value: true, date: nextDate(), source: 'api:test' });
      const outcomes = await burst(p.sendingId, cid, 'back');
      expect(outcomes.every((o) => o.found)).toBe(true);
      await Promise.all([t.ctx.events.flush(), other.events.flush()]);
      const back = await t.ctx.store.db.selectFrom('events').select('contact_id').where('project_id', '=', p.pid).where('user_agent', 'like', '% back').execute();
      expect(back).toHaveLength(BURST);
      expect(back.every((e) => e.contact_id === cid)).toBe(true);
    });

    it.runIf(dialect === 'postgres')("drops a change made on one process from the other's caches at once (LISTEN/NOTIFY)", async () => {
      const p = projects[1]!;
      const cid = p.contacts[2]!;
      const soon = async (check: () => Promise<boolean>) => {
        const started = Date.now();
        while (!(await check())) {
          // The caches keep values 2 s: seeing the change well before proves the notification.
          if (Date.now() - started > 800) throw new Error('the other process still has the old value');
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await t.ctx.consent.setConsent(p.pid, cid, { value: true, date: nextDate(), source: 'api:test' });
      await new Promise((r) => setTimeout(r, 50));
      expect((await other.consent.consentOf(p.pid, cid)).value).toBe(true);
      await t.ctx.consent.setConsent(p.pid, cid, { value: false, date: nextDate(), source: 'api:test' });
      await soon(async () => (await other.consent.consentOf(p.pid, cid)).value === false);

      expect((await other.projects.getCached(p.pid)).settings.tracking.honorGpc).toBe(true);
      await t.ctx.projects.update(p.pid, { settings: { tracking: { honorGpc: false } } }, 'test');
      await soon(async () => (await other.projects.getCached(p.pid)).settings.tracking.honorGpc === false);

      expect(await other.injectionRules.cachedRules(p.pid)).toEqual([]);
      await t.ctx.injectionRules.create(p.pid, { name: 'utm', domains: ['example.com'], params: [{ name: 'utm_source', value: 'tg' }], autoApply: true, onlyTrackedContacts: false });
      await soon(async () => (await other.injectionRules.cachedRules(p.pid)).length === 1);
      expect(other.changes.stats.received).toBeGreaterThanOrEqual(3);
    });
  });
}
