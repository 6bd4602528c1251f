// Campaigns carry rule 9 (untracked contacts leave at a behavioural condition, in neither
// branch) and a scheduler that must survive a restart without sending anything twice.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import { ADMIN_KEY, createProject, dialects, freshDatabase, startTestApp, type TestApp } from '../helpers/harness.js';

const T0 = Date.parse('2026-11-02T09:00:00Z');
const HOUR = 3_600_000;

async function runJobs(ctx: AppContext): Promise<void> {
  for (let i = 0; i < 500 && (await ctx.jobs.runOnce()); i++) {
    // drain what is due
  }
}

function outboxCount(dataDir: string, sendingId: number): number {
  const dir = join(dataDir, 'outbox', String(sendingId));
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')).length : 0;
}

/** The open-pixel path of the mail sent to `to` in a sending's outbox. */
async function openPath(dataDir: string, sendingId: number, to: string): Promise<string> {
  const dir = join(dataDir, 'outbox', String(sendingId));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.eml'))) {
    const mail = await simpleParser(readFileSync(join(dir, file)));
    if (mail.to && !Array.isArray(mail.to) && mail.to.text === to && typeof mail.html === 'string') {
      const path = /http:\/\/[^/"]+(\/t\/o\/[A-Za-z0-9_-]+)/.exec(mail.html)?.[1];
      if (path) return path;
    }
  }
  throw new Error(`no mail to ${to}`);
}

async function states(ctx: AppContext, projectId: number, campaignId: number): Promise<Record<number, string>> {
  const rows = await ctx.store.db
    .selectFrom('campaign_contacts')
    .select(['contact_id', 'state', 'node_id'])
    .where('project_id', '=', projectId)
    .where('campaign_id', '=', campaignId)
    .execute();
  return Object.fromEntries(rows.map((r) => [Number(r.contact_id), r.state === 'active' ? `at ${r.node_id}` : `${r.state} ${r.node_id}`]));
}

const message = (name: string) => ({ channel: 'email' as const, name, communicationType: 'newsletter', subject: name, html: '<p>Hi</p><a href="https://example.com/x">x</a>' });

for (const dialect of dialects()) {
  describe(`campaigns (${dialect})`, () => {
    let t: TestApp;
    let now = T0;
    const clock = () => now;

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, clock);
    });
    afterAll(async () => t?.close());

    async function merge(pid: string, records: Record<string, unknown>[]): Promise<number[]> {
      const res = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records });
      expect(res.status).toBe(200);
      return res.body.results.map((r) => Number(r.contactId));
    }

    async function createMessage(pid: string, name: string): Promise<string> {
      const res = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, message(name));
      expect(res.status).toBe(201);
      return res.body.id;
    }

    it('send, wait, condition(opened): tracked openers go yes, tracked others go no, refused contacts leave and count as leftUntracked', async () => {
      const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      const [opener, quiet, unanswered, refused] = (await merge(pid, [
        { email: 'opener@example.com', hasTrackingConsent: true },
        { email: 'quiet@example.com', hasTrackingConsent: true },
        { email: 'unanswered@example.com' },
        { email: 'refused@example.com', hasTrackingConsent: false },
      ])) as [number, number, number, number];
      const messageId = await createMessage(pid, 'welcome');
      const created = await t.api<{ id: string; status: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'welcome',
        entry: { api: true },
        start: 'send',
        nodes: [
          { id: 'send', type: 'send', messageId, next: 'wait' },
          { id: 'wait', type: 'wait', duration: 'PT1H', next: 'opened' },
          { id: 'opened', type: 'condition', criteria: { behavior: 'opened', messageId }, yes: 'thanks', no: 'remind' },
          { id: 'thanks', type: 'end' },
          { id: 'remind', type: 'end' },
        ],
      });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('draft');
      const cid = created.body.id;
      const early = await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/contacts`, { contactIds: [opener] });
      expect(early.status).toBe(409);
      expect((await t.api<{ status: string }>('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`)).body.status).toBe('running');
      const added = await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/contacts`, { contactIds: [opener, quiet, unanswered, refused, 999999] });
      expect(added.body).toEqual({ entered: 4, ignored: 1 });
      await runJobs(t.ctx);

      const sendings = await t.ctx.sendings.list(Number(pid));
      expect(sendings).toHaveLength(1);
      const sending = sendings[0] as (typeof sendings)[number];
      expect(sending.status).toBe('sent');
      expect(sending.targeted).toBe(4);
      expect(outboxCount(t.config.dataDir, sending.id)).toBe(4);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({
        [opener]: 'at opened',
        [quiet]: 'at opened',
        [unanswered]: 'at opened',
        [refused]: 'at opened',
      });

      // Real opens through the pixel: the refused contact's open is recorded anonymously, the opener's identified.
      for (const email of ['opener@example.com', 'refused@example.com']) {
        const path = await openPath(t.config.dataDir, sending.id, email);
        const hit = await t.app.inject({ method: 'GET', url: path, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36' } });
        expect(hit.statusCode).toBe(200);
      }
      await t.ctx.events.flush();
      const opens = await t.ctx.store.db.selectFrom('events').select('contact_id').where('project_id', '=', Number(pid)).where('type', '=', 'open').execute();
      expect(opens.map((o) => o.contact_id).sort()).toEqual([opener, null].sort());
      now += HOUR - 1000;
      await runJobs(t.ctx);
      expect((await states(t.ctx, Number(pid), Number(cid)))[opener]).toBe('at opened');
      now += 2000;
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({
        [opener]: 'completed thanks',
        [quiet]: 'completed remind',
        [unanswered]: 'completed remind',
        [refused]: 'left_untracked opened',
      });
      const stats = await t.api('GET', `/api/v1/projects/${pid}/campaigns/${cid}/stats`);
      expect(stats.body).toEqual({
        entered: 4,
        completed: 3,
        leftUntracked: 1,
        left: 0,
        active: 0,
        nodes: {
          send: { reached: 4, leftUntracked: 0 },
          wait: { reached: 4, leftUntracked: 0 },
          // The refused contact left at the behavioural condition, and is counted there.
          opened: { reached: 4, leftUntracked: 1 },
          thanks: { reached: 1, leftUntracked: 0 },
          remind: { reached: 2, leftUntracked: 0 },
        },
      });
      expect(await t.ctx.sendings.list(Number(pid))).toHaveLength(1);
    });

    it('a contact who refuses between the send and the condition leaves at the condition', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const [stays, refuses] = (await merge(pid, [
        { email: 'stays@example.com', hasTrackingConsent: true },
        { email: 'refuses@example.com', hasTrackingConsent: true },
      ])) as [number, number];
      const messageId = await createMessage(pid, 'm');
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'c',
        entry: { api: true },
        start: 's',
        nodes: [
          { id: 's', type: 'send', messageId, next: 'w' },
          { id: 'w', type: 'wait', duration: 'P1D', next: 'c' },
          { id: 'c', type: 'condition', criteria: { not: { behavior: 'clicked' } }, yes: 'y', no: 'n' },
          { id: 'y', type: 'end' },
          { id: 'n', type: 'end' },
        ],
      });
      const cid = created.body.id;
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`);
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/contacts`, { contactIds: [stays, refuses] });
      await runJobs(t.ctx);
      now += 1000;
      const put = await t.api('PUT', `/api/v1/projects/${pid}/contacts/${refuses}/tracking-consent`, { consent: false });
      expect(put.status).toBe(200);
      now += 24 * HOUR;
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({ [stays]: 'completed y', [refuses]: 'left_untracked c' });
    });

    it('opt-in mode: unanswered contacts of a group entry leave at a behavioural condition; the campaign finishes', async () => {
      const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      const [accepted, unanswered, outside] = (await merge(pid, [
        { email: 'acc@optin.test', hasTrackingConsent: true },
        { email: 'una@optin.test' },
        { email: 'out@elsewhere.test', hasTrackingConsent: true },
      ])) as [number, number, number];
      const group = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/groups`, {
        name: 'optin',
        type: 'dynamic',
        criteria: { field: 'email', op: 'endsWith', value: '@optin.test' },
      });
      expect(group.status).toBe(201);
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'optin',
        entry: { groupId: group.body.id },
        start: 'c',
        nodes: [
          { id: 'c', type: 'condition', criteria: { behavior: 'opened', withinDays: 30 }, yes: 'y', no: 'n' },
          { id: 'y', type: 'end' },
          { id: 'n', type: 'end' },
        ],
      });
      expect(created.status).toBe(201);
      const cid = created.body.id;
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`);
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({ [accepted]: 'completed n', [unanswered]: 'left_untracked c' });
      expect(outside).toBeGreaterThan(0);
      const stats = await t.api<{ entered: number; leftUntracked: number }>('GET', `/api/v1/projects/${pid}/campaigns/${cid}/stats`);
      expect(stats.body).toMatchObject({ entered: 2, completed: 1, leftUntracked: 1 });
      expect((await t.api<{ status: string }>('GET', `/api/v1/projects/${pid}/campaigns/${cid}`)).body.status).toBe('finished');
    });

    it('a field-only condition evaluates untracked contacts like everyone else', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const [refusedPro, refusedFree] = (await merge(pid, [
        { email: 'pro@example.com', hasTrackingConsent: false, fields: { plan: 'pro' } },
        { email: 'free@example.com', hasTrackingConsent: false, fields: { plan: 'free' } },
      ])) as [number, number];
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'plans',
        entry: { api: true },
        start: 'c',
        nodes: [
          { id: 'c', type: 'condition', criteria: { all: [{ field: 'fields.plan', op: 'eq', value: 'pro' }, { not: { field: 'status', op: 'eq', value: 'quarantine' } }] }, yes: 'y', no: 'n' },
          { id: 'y', type: 'end' },
          { id: 'n', type: 'end' },
        ],
      });
      const cid = created.body.id;
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`);
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/contacts`, { contactIds: [refusedPro, refusedFree] });
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({ [refusedPro]: 'completed y', [refusedFree]: 'completed n' });
      const stats = await t.api<{ leftUntracked: number }>('GET', `/api/v1/projects/${pid}/campaigns/${cid}/stats`);
      expect(stats.body.leftUntracked).toBe(0);
    });

    it('pause stops the scheduler and start resumes it; a draft can be edited, a running campaign cannot', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const [a] = (await merge(pid, [{ email: 'a@example.com' }])) as [number];
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'p',
        entry: { api: true },
        start: 'w',
        nodes: [
          { id: 'w', type: 'wait', duration: 'PT1H', next: 'e' },
          { id: 'e', type: 'end' },
        ],
      });
      const cid = created.body.id;
      const renamed = await t.api<{ name: string; nodes: unknown[] }>('PATCH', `/api/v1/projects/${pid}/campaigns/${cid}`, {
        name: 'q',
        nodes: [
          { id: 'w', type: 'wait', duration: 'PT2H', next: 'e' },
          { id: 'e', type: 'end' },
        ],
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe('q');
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`);
      const locked = await t.api<{ code: string }>('PATCH', `/api/v1/projects/${pid}/campaigns/${cid}`, { start: 'e' });
      expect(locked.status).toBe(409);
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/contacts`, { contactIds: [a] });
      await runJobs(t.ctx);
      expect((await t.api<{ status: string }>('POST', `/api/v1/projects/${pid}/campaigns/${cid}/pause`)).body.status).toBe('paused');
      now += 3 * HOUR;
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({ [a]: 'at e' });
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/campaigns/${cid}`)).status).toBe(204);
      expect((await t.api('GET', `/api/v1/projects/${pid}/campaigns/${cid}`)).status).toBe(404);
    });

    it('a paused campaign resumes where it stopped', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const [a] = (await merge(pid, [{ email: 'r@example.com' }])) as [number];
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'r',
        entry: { api: true },
        start: 'w',
        nodes: [
          { id: 'w', type: 'wait', duration: 'PT1H', next: 'e' },
          { id: 'e', type: 'end' },
        ],
      });
      const cid = created.body.id;
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`);
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/contacts`, { contactIds: [a] });
      await runJobs(t.ctx);
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/pause`);
      now += 2 * HOUR;
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({ [a]: 'at e' });
      expect((await t.api<{ status: string }>('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`)).body.status).toBe('running');
      await runJobs(t.ctx);
      expect(await states(t.ctx, Number(pid), Number(cid))).toEqual({ [a]: 'completed e' });
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/pause`);
      await t.api('POST', `/api/v1/projects/${pid}/campaigns/${cid}/start`);
      await runJobs(t.ctx);
      const jobs = await t.ctx.store.db
        .selectFrom('jobs')
        .select('id')
        .where('project_id', '=', Number(pid))
        .where('kind', '=', 'campaign')
        .where('state', '=', 'pending')
        .execute();
      expect(jobs).toHaveLength(1);
    });

    it('an invalid campaign is refused with field-level problems', async () => {
      const pid = await createProject(t);
      const res = await t.api<{ code: string; errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'bad',
        entry: { api: true },
        start: 'a',
        nodes: [
          { id: 'a', type: 'wait', duration: 'one hour', next: 'b' },
          { id: 'b', type: 'condition', criteria: { behavior: 'teleported' }, yes: 'a', no: 'zzz' },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('InvalidCampaign');
      expect(res.body.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['nodes[0].duration', 'nodes[1].no']));
      const noMessage = await t.api<{ errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'bad',
        entry: { api: true },
        start: 's',
        nodes: [
          { id: 's', type: 'send', messageId: '424242', next: 'e' },
          { id: 'e', type: 'end' },
        ],
      });
      expect(noMessage.status).toBe(400);
      expect(noMessage.body.errors[0]?.field).toBe('nodes[0].messageId');
    });
  });

  describe(`campaign scheduler across a restart (${dialect})`, () => {
    // A process may die with contacts leased or with a sending created but not yet linked to
    // its batch; the next process must resume from the database and send nobody anything twice.
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let now = T0;
    const clock = () => now;
    afterAll(async () => database?.drop());

    it('a new process continues the campaign and nobody gets a send twice', async () => {
      database = await freshDatabase(dialect);
      const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: ADMIN_KEY, secrets: ['test-secret'], logLevel: 'warn' });
      let ctx = await createContext(config, clock);
      const project = await ctx.projects.create('restart');
      const merged = await ctx.contacts.merge(
        project.id,
        Array.from({ length: 7 }, (_, i) => ({ email: `c${i}@example.com`, ...(i === 3 ? { hasTrackingConsent: false } : {}) })),
        { source: 'api:test' },
      );
      const contactIds = merged.map((r) => Number(r.contactId));
      const first = (await ctx.messages.create(project.id, message('first'))).message.id;
      const second = (await ctx.messages.create(project.id, message('second'))).message.id;
      const campaign = await ctx.campaigns.create(project.id, {
        name: 'two steps',
        entry: { api: true },
        start: 's1',
        nodes: [
          { id: 's1', type: 'send', messageId: String(first), next: 'w' },
          { id: 'w', type: 'wait', duration: 'P1D', next: 's2' },
          { id: 's2', type: 'send', messageId: String(second), next: 'e' },
          { id: 'e', type: 'end' },
        ],
      });
      await ctx.campaigns.start(project.id, campaign.id);
      await ctx.campaigns.addContacts(project.id, campaign.id, contactIds);
      await runJobs(ctx);
      const sends = () =>
        ctx.store.db.selectFrom('campaign_sends').selectAll().where('project_id', '=', project.id).where('campaign_id', '=', campaign.id).orderBy('id').execute();
      expect((await sends()).map((s) => s.node_id)).toEqual(['s1']);

      // The dead process had claimed three contacts (lease not lapsed yet) and created the
      // first sending without recording its id on the batch.
      const leased = contactIds.slice(0, 3);
      await ctx.store.db
        .updateTable('campaign_contacts')
        .set({ lease_until: now + 24 * 3_600_000 + 10 * 60_000 })
        .where('project_id', '=', project.id)
        .where('contact_id', 'in', leased)
        .execute();
      const [firstBatch] = await sends();
      const firstTarget = (await ctx.sendings.get(project.id, Number(firstBatch?.sending_id))).target;
      expect(firstTarget).toEqual({ contactIds });
      await ctx.store.db
        .updateTable('campaign_sends')
        .set({ sending_id: null, contact_ids: JSON.stringify(contactIds) })
        .where('project_id', '=', project.id)
        .execute();
      await ctx.close();

      ctx = await createContext(config, clock);
      now += 24 * 3_600_000 + 1000;
      await runJobs(ctx);
      let rows = await sends();
      expect(rows.map((s) => s.node_id)).toEqual(['s1', 's2']);
      expect((await ctx.sendings.get(project.id, Number(rows[1]?.sending_id))).target).toEqual({ contactIds: contactIds.slice(3) });
      expect(rows.map((s) => s.contact_ids)).toEqual(['[]', '[]']);
      now += 11 * 60_000;
      await runJobs(ctx);
      rows = await sends();
      expect(rows.map((s) => s.node_id)).toEqual(['s1', 's2', 's2']);
      expect(rows.every((s) => s.sending_id !== null)).toBe(true);

      const sendings = await ctx.sendings.list(project.id);
      expect(sendings).toHaveLength(3);
      const perMessage = new Map<number, number>();
      for (const s of sendings) {
        expect(s.status).toBe('sent');
        perMessage.set(s.messageId, (perMessage.get(s.messageId) ?? 0) + outboxCount(config.dataDir, s.id));
      }
      expect(perMessage.get(first)).toBe(7);
      expect(perMessage.get(second)).toBe(7);
      const stats = await ctx.campaigns.stats(project.id, campaign.id);
      expect(stats).toMatchObject({ entered: 7, completed: 7, leftUntracked: 0, nodes: { s1: { reached: 7 }, w: { reached: 7 }, s2: { reached: 7 }, e: { reached: 7 } } });
      await ctx.close();
    });
  });
}
