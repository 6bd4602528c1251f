import fc from 'fast-check';
import type { Criteria } from '../../src/domain/criteria.js';
import type { Db } from '../../src/store/database.js';
import { insertEvents, insertSending } from './activity.js';

const DAY = 86_400_000;

/** Replaces the sending and message indexes of a generated tree by the ids of the rows inserted for it. */
export function bindIds(tree: Criteria, sendings: { sendingId: number; messageId: number }[]): Criteria {
  if ('all' in tree) return { all: tree.all.map((c) => bindIds(c, sendings)) };
  if ('any' in tree) return { any: tree.any.map((c) => bindIds(c, sendings)) };
  if ('not' in tree) return { not: bindIds(tree.not, sendings) };
  if ('behavior' in tree) {
    const out = { ...tree };
    if (out.sendingId !== undefined) out.sendingId = String(sendings[Number(out.sendingId)]?.sendingId);
    if (out.messageId !== undefined) out.messageId = String(sendings[Number(out.messageId)]?.messageId);
    return out;
  }
  return tree;
}

/** Small random worlds: few distinct values so that clauses often match. */
export function randomCriteria() {
  // 'true', '2.5' and '{"a":1}' read alike as text, number, boolean or object JSON: eq must still tell the types apart.
  const text = fc.constantFrom('a', 'ab', 'b%', 'B', '', '12', '-3.5', '2.5', 'true', '{"a":1}', '2025-06-01', '2026-01-10T00:00:00Z', 'x_y');
  const fieldValue = fc.oneof(text, fc.integer({ min: -3, max: 15 }), fc.constantFrom<unknown>(true, false, 2.5, null, { a: 1 }));
  const contact = fc.record({
    consent: fc.constantFrom<boolean | null>(true, false, null),
    status: fc.constantFrom('active', 'inactive'),
    fields: fc.dictionary(fc.constantFrom('f', 'g', 'd'), fieldValue, { maxKeys: 3 }),
  });
  const event = fc.record({
    contact: fc.option(fc.nat(10), { nil: null, freq: 6 }),
    type: fc.constantFrom('open' as const, 'click' as const, 'web' as const, 'form_submit' as const),
    sending: fc.nat(1),
    link: fc.nat(1),
    name: fc.constantFrom('pricing', 'home'),
    daysAgo: fc.nat(60),
    machine: fc.boolean(),
  });
  const delivery = fc.record({ sending: fc.nat(1), contact: fc.nat(10), daysAgo: fc.nat(60) });
  const behavior = fc.record(
    {
      behavior: fc.constantFrom('received' as const, 'opened' as const, 'clicked' as const, 'visited' as const, 'submitted' as const),
      sendingId: fc.constantFrom('0', '1'),
      messageId: fc.constantFrom('0', '1'),
      linkUrl: fc.constantFrom('u0', 'u1'),
      eventName: fc.constantFrom('pricing', 'home'),
      formId: fc.constantFrom('1', '2'),
      withinDays: fc.integer({ min: 1, max: 60 }),
      minCount: fc.integer({ min: 1, max: 3 }),
      humanOnly: fc.boolean(),
    },
    { requiredKeys: ['behavior'] },
  ).map((clause) => {
    const allowed: Record<string, string[]> = {
      received: ['sendingId', 'messageId', 'withinDays', 'minCount'],
      opened: ['sendingId', 'messageId', 'withinDays', 'minCount', 'humanOnly'],
      clicked: ['sendingId', 'messageId', 'linkUrl', 'withinDays', 'minCount', 'humanOnly'],
      visited: ['eventName', 'linkUrl', 'withinDays', 'minCount', 'humanOnly'],
      submitted: ['formId', 'withinDays', 'minCount', 'humanOnly'],
    };
    return Object.fromEntries(Object.entries(clause).filter(([k]) => k === 'behavior' || allowed[clause.behavior]?.includes(k))) as unknown as Criteria;
  });
  const customField = fc.constantFrom('fields.f', 'fields.g', 'fields.d');
  const field: fc.Arbitrary<Criteria> = fc.oneof(
    fc.record({ field: customField, op: fc.constantFrom('eq' as const, 'neq' as const), value: fc.oneof(text.filter((s) => s !== ''), fc.integer({ min: -3, max: 15 }), fc.boolean(), fc.constant(2.5)) }),
    fc.record({ field: customField, op: fc.constantFrom('contains' as const, 'startsWith' as const, 'endsWith' as const), value: fc.constantFrom('a', 'b', '%', '_', '1', '2025') }),
    fc.record({ field: customField, op: fc.constantFrom('gt' as const, 'lt' as const), value: fc.oneof(fc.integer({ min: -4, max: 16 }), fc.constant(2.5)) }),
    fc.record({ field: customField, op: fc.constant('in' as const), value: fc.array(fc.oneof(fc.constantFrom('a', 'ab', '12'), fc.integer({ min: 0, max: 12 })), { minLength: 1, maxLength: 3 }) }),
    fc.record({ field: customField, op: fc.constant('exists' as const), value: fc.boolean() }),
    fc.record({ field: customField, op: fc.constantFrom('before' as const, 'after' as const), value: fc.constantFrom('2025-01-01', '2026-01-10', '2026-01-10T00:00:00Z') }),
    fc.record({ field: customField, op: fc.constant('withinDays' as const), value: fc.integer({ min: 1, max: 400 }) }),
    fc.record({ field: fc.constant('email'), op: fc.constantFrom('eq' as const, 'startsWith' as const, 'endsWith' as const, 'contains' as const), value: fc.constantFrom('c1@x.org', 'C2', '@X.ORG', '1@') }),
    fc.record({ field: fc.constant('status'), op: fc.constantFrom('eq' as const, 'neq' as const), value: fc.constantFrom('active', 'inactive') }),
    fc.record({ field: fc.constant('trackingStatus'), op: fc.constantFrom('eq' as const, 'neq' as const), value: fc.constantFrom('accepted', 'refused', 'unanswered') }),
  );
  const { tree } = fc.letrec<{ tree: Criteria }>((tie) => ({
    tree: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'tree' },
      field,
      behavior,
      fc.record({ all: fc.array(tie('tree'), { maxLength: 3 }) }),
      fc.record({ any: fc.array(tie('tree'), { maxLength: 3 }) }),
      fc.record({ not: tie('tree') }),
    ),
  }));
  return { contact, event, delivery, tree };
}

type Arbs = ReturnType<typeof randomCriteria>;
type Gen<K extends keyof Arbs> = Arbs[K] extends fc.Arbitrary<infer T> ? T : never;

/** Inserts a generated world (contacts, two sendings with links, events, deliveries) into a project. */
export async function insertRandomWorld(db: Db, p: number, now: number, contacts: Gen<'contact'>[], events: Gen<'event'>[], deliveries: Gen<'delivery'>[]) {
  const inserted = await db
    .insertInto('contacts')
    .values(
      contacts.map((c, i) => ({
        project_id: p,
        email: `c${i}@x.org`,
        external_id: null,
        phone: null,
        fields: JSON.stringify(c.fields),
        status: c.status,
        has_tracking_consent: c.consent === null ? null : c.consent ? 1 : 0,
        dt_tracking_consent: null,
        created_at: 0,
        updated_at: 0,
      })),
    )
    .returning('id')
    .execute();
  const ids = inserted.map((r) => r.id);
  const sendings = [await insertSending(db, p, ['u0', 'u1']), await insertSending(db, p, ['u1'])];
  const contactOf = (i: number | null) => (i === null ? null : (ids[i % ids.length] as number));
  await insertEvents(
    db,
    p,
    events.map((e) => {
      const s = sendings[e.sending];
      const onSending = e.type === 'open' || e.type === 'click';
      return {
        contactId: contactOf(e.contact),
        type: e.type,
        at: now - e.daysAgo * DAY,
        machine: e.machine,
        ...(onSending && s ? { sendingId: s.sendingId, messageId: s.messageId } : {}),
        ...(e.type === 'click' ? { linkIdx: e.link } : {}),
        ...(e.type === 'web' ? { name: e.name, url: `u${e.link}` } : {}),
        ...(e.type === 'form_submit' ? { formId: e.link + 1 } : {}),
      };
    }),
  );
  const uniqueDeliveries = new Map(deliveries.map((d) => [`${d.sending}:${d.contact % ids.length}`, d]));
  for (const d of uniqueDeliveries.values()) {
    const s = sendings[d.sending] as { sendingId: number };
    await db.insertInto('deliveries').values({ project_id: p, sending_id: s.sendingId, contact_id: contactOf(d.contact) as number, status: 'sent', at: now - d.daysAgo * DAY }).execute();
  }
  return { ids, sendings };
}
