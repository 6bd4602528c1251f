// Injection rules write values into URLs that leave for third-party sites: a contact id or email
// in the redirect of an anonymous click would link an untracked person to their behaviour (rule 10).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type InjectionContext, type InjectionRule, applyInjection, validateInjectionRule } from './injection.js';

const rule = (over: Partial<InjectionRule> = {}): InjectionRule => ({
  id: 1,
  name: 'utm',
  domains: ['example.com'],
  params: [{ name: 'utm_source', value: 'newsletter' }, { name: 'utm_campaign', value: '{{message.name}}' }, { name: 'cid', value: '{{contact.id}}' }],
  autoApply: true,
  onlyTrackedContacts: false,
  ...over,
});

const tracked: InjectionContext = {
  channel: 'email',
  communicationType: 'newsletter',
  message: { id: 3, name: 'Spring sale' },
  sending: { id: 7 },
  contact: { id: 42, email: 'ann@example.org', fields: { tier: 'gold' } },
  tracked: true,
};
const anonymous: InjectionContext = { ...tracked, contact: null, tracked: false };

describe('applyInjection', () => {
  it('fills literal, message and contact values for a tracked contact', () => {
    expect(applyInjection('https://example.com/a', [rule()], tracked)).toBe('https://example.com/a?utm_source=newsletter&utm_campaign=Spring%20sale&cid=42');
  });

  it('omits contact-level parameters for an anonymous click even when the rule is not tracked-only', () => {
    expect(applyInjection('https://example.com/a', [rule()], anonymous)).toBe('https://example.com/a?utm_source=newsletter&utm_campaign=Spring%20sale');
  });

  it('omits contact-level parameters for a contact untracked at click time', () => {
    expect(applyInjection('https://example.com/a', [rule()], { ...tracked, tracked: false })).not.toContain('cid=');
  });

  it('skips a tracked-only rule entirely for an anonymous click', () => {
    expect(applyInjection('https://example.com/a', [rule({ onlyTrackedContacts: true })], anonymous)).toBe('https://example.com/a');
    expect(applyInjection('https://example.com/a', [rule({ onlyTrackedContacts: true })], tracked)).toContain('cid=42');
  });

  it('keeps the existing query byte for byte and the fragment; an injected parameter replaces a same-named one', () => {
    const url = 'https://shop.example.com/p?q=a%20b&flag&utm_source=old&x=1#section-2';
    expect(applyInjection(url, [rule()], tracked)).toBe('https://shop.example.com/p?q=a%20b&flag&x=1&utm_source=newsletter&utm_campaign=Spring%20sale&cid=42#section-2');
  });

  it('matches the domain and its subdomains only', () => {
    const r = [rule({ params: [{ name: 'u', value: '1' }] })];
    expect(applyInjection('https://example.com/', r, tracked)).toBe('https://example.com/?u=1');
    expect(applyInjection('https://deep.shop.EXAMPLE.com/', r, tracked)).toBe('https://deep.shop.EXAMPLE.com/?u=1');
    expect(applyInjection('https://notexample.com/', r, tracked)).toBe('https://notexample.com/');
    expect(applyInjection('https://example.com.evil.io/', r, tracked)).toBe('https://example.com.evil.io/');
  });

  it('applies only auto-apply rules of the matching channel and communication type', () => {
    const p = [{ name: 'u', value: '1' }];
    expect(applyInjection('https://example.com/', [rule({ params: p, autoApply: false })], tracked)).toBe('https://example.com/');
    expect(applyInjection('https://example.com/', [rule({ params: p, channels: ['sms'] })], tracked)).toBe('https://example.com/');
    expect(applyInjection('https://example.com/', [rule({ params: p, channels: ['sms', 'email'] })], tracked)).toBe('https://example.com/?u=1');
    expect(applyInjection('https://example.com/', [rule({ params: p, communicationTypes: ['transactional'] })], tracked)).toBe('https://example.com/');
    expect(applyInjection('https://example.com/', [rule({ params: p, communicationTypes: ['newsletter'] })], tracked)).toBe('https://example.com/?u=1');
  });

  it('fills email, custom fields and sending id, URL-encoded', () => {
    const r = rule({ params: [{ name: 'e', value: '{{contact.email}}' }, { name: 't', value: 'tier-{{ contact.fields.tier }}-{{sending.id}}' }] });
    expect(applyInjection('https://example.com/', [r], tracked)).toBe('https://example.com/?e=ann%40example.org&t=tier-gold-7');
  });

  it('never puts a contact value in the URL of an anonymous click (property)', () => {
    const marker = 'Zq9MarkerXv';
    const valueArb = fc.oneof(
      fc.constantFrom('{{contact.id}}', '{{contact.email}}', '{{contact.fields.secret}}', '{{message.name}}', '{{sending.id}}', 'lit'),
      fc.tuple(fc.string({ maxLength: 4 }), fc.constantFrom('{{contact.email}}', '{{contact.fields.secret}}', '{{contact.id}}')).map(([a, b]) => a + b),
    );
    const ruleArb = fc.record({
      id: fc.nat(),
      name: fc.constant('r'),
      domains: fc.constant<string[]>(['example.com']),
      params: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 5 }), value: valueArb }), { minLength: 1, maxLength: 5 }),
      autoApply: fc.boolean(),
      onlyTrackedContacts: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 4 }), fc.boolean(), fc.webPath(), (rules, contactKnown, path) => {
        const ctx: InjectionContext = {
          ...tracked,
          contact: contactKnown ? { id: 987_654_321, email: `${marker}@mail.io`, fields: { secret: marker } } : null,
          tracked: false,
        };
        const out = applyInjection(`https://www.example.com${path}`, rules, ctx);
        expect(out).not.toContain(marker);
        expect(out).not.toContain('987654321');
        expect(out).not.toContain('%40mail.io');
      }),
    );
  });

  it('keeps any existing query and fragment (property)', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        fc.pre(!/[?&](utm_source|utm_campaign|cid)=/.test(url));
        const out = applyInjection(url, [rule({ domains: [new URL(url).hostname || 'x.invalid'] })], tracked);
        const before = new URL(url);
        const after = new URL(out);
        expect(after.hash).toBe(before.hash);
        for (const [k, v] of before.searchParams) expect(after.searchParams.getAll(k)).toContain(v);
        expect(after.searchParams.get('utm_source')).toBe(before.hostname ? 'newsletter' : null);
      }),
    );
  });

  it('leaves an unparseable URL alone', () => {
    expect(applyInjection('not a url', [rule()], tracked)).toBe('not a url');
  });
});

describe('validateInjectionRule', () => {
  it('accepts the SPEC example', () => {
    expect(
      validateInjectionRule({
        name: 'utm',
        domains: ['example.com'],
        channels: ['email', 'sms', 'push'],
        communicationTypes: ['newsletter'],
        params: [{ name: 'utm_source', value: 'newsletter' }, { name: 'cid', value: '{{contact.id}}' }, { name: 'f', value: '{{contact.fields.tier}}-{{sending.id}}' }],
        autoApply: true,
        onlyTrackedContacts: true,
      }),
    ).toEqual([]);
  });

  it('reports bad domains, channels, flags, duplicate names and unknown tags', () => {
    const problems = validateInjectionRule({
      name: '',
      domains: ['https://example.com/x', 'ok.example'],
      channels: ['fax'],
      autoApply: 'yes',
      params: [{ name: 'a', value: '{{contact.phone}}' }, { name: 'a', value: 'x' }, { name: 'b', value: '{{message.name' }],
    });
    expect(problems.map((p) => p.field)).toEqual(['name', 'domains[0]', 'channels[0]', 'autoApply', 'params[0].value', 'params[1].name', 'params[2].value']);
  });

  it('requires at least one domain and one parameter', () => {
    expect(validateInjectionRule({ name: 'x', domains: [], params: [] }).map((p) => p.field)).toEqual(['domains', 'params']);
    expect(validateInjectionRule(null)).toHaveLength(1);
  });
});
