// On PostgreSQL a merge of 64 contacts or more travels by COPY through a staging table, a smaller one
// by plain statements (store/contacts.ts saveContacts): both must store exactly the same thing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyProjectLedger } from '../../src/services/ledger.service.js';
import { listContactHistory } from '../../src/store/consent-history.js';
import { dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const AWKWARD = ['tab\there', 'line\nbreak', 'cr\rreturn', 'back\\slash', '\\N', 'quote "q" \'s\'', 'émoji 🎉', '', ' '];

function records(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}${i}@example.com`,
    ...(i % 3 === 0 ? { externalId: `${prefix}-x${i}\t${i}` } : {}),
    ...(i % 4 === 0 ? { phone: `+33 1\\${i}` } : {}),
    fields: { note: AWKWARD[i % AWKWARD.length], n: i, nested: { list: [i, null, 'a\nb'] } },
    hasTrackingConsent: i % 2 === 0 ? '1' : '0',
    dtTrackingConsent: '2025-03-04',
  }));
}

for (const dialect of dialects()) {
  describe(`contact batches (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a large batch stores awkward text, ids in input order and history in order, as a small one does', async () => {
      for (const count of [10, 200]) {
        const project = await t.ctx.projects.create(`batch-${count}`);
        const input = records(`p${count}-`, count);
        const results = await t.ctx.contacts.merge(project.id, input, { source: 'api:test' });
        expect(results.every((r) => r.result === 'created' && r.consent === 'applied')).toBe(true);
        const ids = results.map((r) => Number(r.contactId));
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        for (const [i, id] of ids.entries()) {
          const contact = await t.ctx.contacts.get(project.id, id);
          const want = input[i]!;
          expect(contact.email).toBe(want.email);
          expect(contact.externalId).toBe(want.externalId ?? null);
          expect(contact.phone).toBe(want.phone ?? null);
          expect(contact.fields).toEqual(want.fields);
          expect(contact.hasTrackingConsent).toBe(i % 2 === 0);
        }
        const history = await listContactHistory(t.ctx.store.db, project.id, ids[count - 1]!);
        expect(history).toHaveLength(1);
        const ledger = await verifyProjectLedger(t.ctx.store.db, project.id);
        expect([ledger.entries, ledger.broken]).toEqual([count, null]);
      }
    });

    it('in one large batch an email moved off a contact is free for a contact created after it', async () => {
      const project = await t.ctx.projects.create('batch-move');
      const first = records('m-', 100).map((r, i) => ({ ...r, externalId: `crm-${i}` }));
      await t.ctx.contacts.merge(project.id, first, { source: 'api:test' });
      const second = [
        { externalId: 'crm-0', email: 'moved@example.com', fields: { note: 'moved\tout' } },
        { email: 'm-0@example.com', fields: { note: 'new owner' } },
        ...records('n-', 80),
      ];
      const results = await t.ctx.contacts.merge(project.id, second, { source: 'api:test' });
      expect(results.slice(0, 2).map((r) => r.result)).toEqual(['updated', 'created']);
      const moved = await t.ctx.contacts.get(project.id, Number(results[0]!.contactId));
      expect([moved.email, moved.externalId, moved.fields.note]).toEqual(['moved@example.com', 'crm-0', 'moved\tout']);
      const owner = await t.ctx.contacts.get(project.id, Number(results[1]!.contactId));
      expect([owner.email, owner.fields]).toEqual(['m-0@example.com', { note: 'new owner' }]);
    });
  });
}
