// The consent rules are the product's legal core: a wrong answer here tracks someone who refused,
// or lets an old import overwrite a newer refusal. Every rule of SPEC §2 that is pure lives in these tests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrownAppError } from '../../test/helpers/app-error.js';
import { statusOf } from '../http/problem.js';
import {
  type ConsentState,
  consentAction,
  decideConsentChange,
  FUTURE_SKEW_MS,
  isTracked,
  parseConsentDate,
  parseConsentValue,
  type TrackingSettings,
  trackingStatus,
} from './consent.js';

const off: TrackingSettings = { enabled: false, mode: 'opt-out' };
const offOptIn: TrackingSettings = { enabled: false, mode: 'opt-in' };
const optOut: TrackingSettings = { enabled: true, mode: 'opt-out' };
const optIn: TrackingSettings = { enabled: true, mode: 'opt-in' };

describe('isTracked', () => {
  it.each([
    [off, true, true],
    [off, false, true],
    [off, null, true],
    [offOptIn, false, true],
    [offOptIn, null, true],
    [optOut, true, true],
    [optOut, null, true],
    [optOut, false, false],
    [optIn, true, true],
    [optIn, null, false],
    [optIn, false, false],
  ] as const)('module %o, consent %s → tracked %s', (settings, hasTrackingConsent, expected) => {
    expect(isTracked({ hasTrackingConsent }, settings)).toBe(expected);
  });

  it('a refused contact is never tracked while the module is on, whatever the mode', () => {
    fc.assert(
      fc.property(fc.constantFrom<TrackingSettings['mode']>('opt-in', 'opt-out'), (mode) => {
        expect(isTracked({ hasTrackingConsent: false }, { enabled: true, mode })).toBe(false);
      }),
    );
  });
});

describe('trackingStatus and consentAction', () => {
  it('maps true/false/null to accepted/refused/unanswered and history actions accepted/refused/reset', () => {
    expect([true, false, null].map(trackingStatus)).toEqual(['accepted', 'refused', 'unanswered']);
    expect([true, false, null].map(consentAction)).toEqual(['accepted', 'refused', 'reset']);
  });
});

describe('decideConsentChange (newest date wins)', () => {
  const value = fc.constantFrom<boolean | null>(true, false, null);

  /** Applies changes one by one as the services do; counts what each decision would write to the history. */
  function applyAll(changes: { value: boolean | null; date: number }[]) {
    const state: ConsentState = { hasTrackingConsent: null, dtTrackingConsent: null };
    const decisions: string[] = [];
    for (const change of changes) {
      const decision = decideConsentChange(state, change);
      decisions.push(decision);
      if (decision === 'applied') {
        state.hasTrackingConsent = change.value;
        state.dtTrackingConsent = change.date;
      }
    }
    return { state, decisions };
  }

  it('any set of changes with distinct dates, applied in any order, ends in the state of the newest', () => {
    const changes = fc.uniqueArray(fc.record({ value, date: fc.integer({ min: 0, max: 4_000_000_000_000 }) }), {
      minLength: 1,
      maxLength: 20,
      selector: (c) => c.date,
    });
    fc.assert(
      fc.property(
        changes.chain((cs) => fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length }))),
        ([, shuffled]) => {
          const newest = shuffled.reduce((a, b) => (b.date > a.date ? b : a));
          const { state } = applyAll(shuffled);
          expect(state).toEqual({ hasTrackingConsent: newest.value, dtTrackingConsent: newest.date });
        },
      ),
    );
  });

  it('a change older than the current date is stale and never applied, so it never writes history', () => {
    fc.assert(
      fc.property(value, value, fc.integer({ min: 1, max: 4_000_000_000_000 }), fc.integer({ min: 1, max: 1_000_000_000 }), (current, incoming, date, older) => {
        const decision = decideConsentChange({ hasTrackingConsent: current, dtTrackingConsent: date }, { value: incoming, date: date - older });
        expect(decision).toBe('stale');
      }),
    );
  });

  it('in any sequence, a change dated before an already applied one is reported stale', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ value, date: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 30 }), (changes) => {
        const { decisions } = applyAll(changes);
        let newest = Number.NEGATIVE_INFINITY;
        decisions.forEach((decision, i) => {
          const date = changes[i]!.date;
          expect(decision === 'stale').toBe(date < newest);
          if (decision === 'applied') newest = date;
        });
      }),
    );
  });

  it('the same value with the same date changes nothing (replaying a merge is idempotent)', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 4_000_000_000_000 }), (v, date) => {
        expect(decideConsentChange({ hasTrackingConsent: v, dtTrackingConsent: date }, { value: v, date })).toBe('none');
      }),
    );
  });

  it('an equal date with another value applies (≤ wins), a newer date always applies', () => {
    expect(decideConsentChange({ hasTrackingConsent: true, dtTrackingConsent: 100 }, { value: false, date: 100 })).toBe('applied');
    expect(decideConsentChange({ hasTrackingConsent: true, dtTrackingConsent: 100 }, { value: true, date: 101 })).toBe('applied');
    expect(decideConsentChange({ hasTrackingConsent: null, dtTrackingConsent: null }, { value: false, date: 0 })).toBe('applied');
  });
});

describe('parseConsentValue', () => {
  it.each([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ['1', true],
    ['0', false],
    ['true', true],
    ['false', false],
    ['TRUE', true],
    [' False ', false],
    ['\t1\n', true],
    [null, null],
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
  ] as const)('%j → %j', (input, expected) => {
    expect(parseConsentValue(input)).toBe(expected);
  });

  it.each([2, -1, 0.5, 'maybe', '10', 'tru', [], {}, [true], Number.NaN])('%j is rejected as InvalidConsentValue naming the field', (input) => {
    const error = thrownAppError(() => parseConsentValue(input));
    expect(error.code).toBe('InvalidConsentValue');
    expect(statusOf(error.code)).toBe(400);
    expect(error.errors[0]?.field).toBe('hasTrackingConsent');
  });
});

describe('parseConsentDate', () => {
  const now = Date.UTC(2026, 5, 15, 12, 0, 0);

  it.each([
    ['2026-03-04T05:06:07Z', Date.UTC(2026, 2, 4, 5, 6, 7)],
    ['2026-03-04T05:06:07.123Z', Date.UTC(2026, 2, 4, 5, 6, 7, 123)],
    ['2026-03-04T05:06:07.5Z', Date.UTC(2026, 2, 4, 5, 6, 7, 500)],
    ['2026-03-04T05:06:07.123456789Z', Date.UTC(2026, 2, 4, 5, 6, 7, 123)],
    ['2026-03-04T05:06:07', Date.UTC(2026, 2, 4, 5, 6, 7)],
    ['2026-03-04T05:06', Date.UTC(2026, 2, 4, 5, 6)],
    ['2026-03-04 05:06:07', Date.UTC(2026, 2, 4, 5, 6, 7)],
    ['2026-03-04T05:06:07+02:00', Date.UTC(2026, 2, 4, 3, 6, 7)],
    ['2026-03-04T05:06:07-0130', Date.UTC(2026, 2, 4, 6, 36, 7)],
    ['2026-03-04T05:06:07.250+01:00', Date.UTC(2026, 2, 4, 4, 6, 7, 250)],
    ['2026-03-04t05:06:07z', Date.UTC(2026, 2, 4, 5, 6, 7)],
    ['2026.03.04', Date.UTC(2026, 2, 4)],
    ['2026-03-04', Date.UTC(2026, 2, 4)],
    ['  2026-03-04  ', Date.UTC(2026, 2, 4)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
  ])('%s → epoch ms', (input, expected) => {
    expect(parseConsentDate(input, now)).toBe(expected);
  });

  it.each(['0099-01-01', '1969-12-31T23:59:59.999Z', '1970-01-01T00:30:00+01:00', '1900.01.01'])(
    'a consent date before 1970 (%s) is bad input, not a negative date in the ledger',
    (input) => {
      expect(() => parseConsentDate(input, now)).toThrow(/before 1970/);
    },
  );

  it.each([
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31',
    '2026.02.30',
    '2026-03-04T24:00:00Z',
    '2026-03-04T10:60:00Z',
    '2026-03-04T10:00:60Z',
    '2026-03-04T10:00:00+25:00',
    '2026-3-4',
    '04/03/2026',
    '2026.03-04',
    'yesterday',
    '',
    '2026-03-04T',
    '1700000000000',
  ])('%j is rejected as InvalidConsentDate naming the field', (input) => {
    const error = thrownAppError(() => parseConsentDate(input, now));
    expect(error.code).toBe('InvalidConsentDate');
    expect(statusOf(error.code)).toBe(400);
    expect(error.errors[0]?.field).toBe('dtTrackingConsent');
  });

  it('a date more than five minutes in the future is rejected; within five minutes it is accepted', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    expect(parseConsentDate(at(now + FUTURE_SKEW_MS), now)).toBe(now + FUTURE_SKEW_MS);
    expect(parseConsentDate(at(now + 60_000), now)).toBe(now + 60_000);
    const error = thrownAppError(() => parseConsentDate(at(now + FUTURE_SKEW_MS + 1000), now));
    expect(error.code).toBe('FutureConsentDate');
    expect(statusOf(error.code)).toBe(400);
    expect(thrownAppError(() => parseConsentDate('2026-06-16', now)).code).toBe('FutureConsentDate');
  });

  it('names the field it was given', () => {
    expect(thrownAppError(() => parseConsentDate('nope', now, 'date')).errors[0]?.field).toBe('date');
  });

  it('any instant up to now round-trips through its ISO 8601 form', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: now }), (ms) => {
        expect(parseConsentDate(new Date(ms).toISOString(), now)).toBe(ms);
      }),
    );
  });
});
