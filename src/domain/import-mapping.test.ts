// A column mapping or delimiter read wrongly would import consent into the wrong field silently:
// every mapping is parsed strictly and a delimiter is sniffed only outside quotes.
import { describe, expect, it } from 'vitest';
import { thrownAppError } from '../../test/helpers/app-error.js';
import { statusOf } from '../http/problem.js';
import { detectDelimiter, isBlankRow, parseDelimiter, parseMapping, resolveColumns, rowToRecord } from './import-mapping.js';

describe('parseMapping', () => {
  it('reads Column:target pairs and canonicalises target case', () => {
    expect(parseMapping('E-mail:email,Consent:HASTRACKINGCONSENT, Date : dtTrackingConsent,Ville:fields.city')).toEqual([
      { column: 'E-mail', target: 'email' },
      { column: 'Consent', target: 'hasTrackingConsent' },
      { column: 'Date', target: 'dtTrackingConsent' },
      { column: 'Ville', target: 'fields.city' },
    ]);
  });

  it('splits a column on its last colon so a column may contain one', () => {
    expect(parseMapping('Opt-in: date:dtTrackingConsent,mail:email')[0]).toEqual({ column: 'Opt-in: date', target: 'dtTrackingConsent' });
  });

  it('rejects an unknown target on the map field', () => {
    const error = thrownAppError(() => parseMapping('E-mail:mail'));
    expect(statusOf(error.code)).toBe(400);
    expect(error.errors[0]?.field).toBe('map');
    expect(error.message).toContain('unknown target "mail"');
  });

  it('rejects a pair without a colon, an empty mapping and a target mapped twice', () => {
    expect(thrownAppError(() => parseMapping('email')).errors[0]?.field).toBe('map');
    expect(thrownAppError(() => parseMapping(' , ')).errors[0]?.field).toBe('map');
    expect(thrownAppError(() => parseMapping('a:email,b:email')).message).toContain('mapped twice');
    expect(thrownAppError(() => parseMapping('a:fields.')).message).toContain('unknown target');
  });
});

describe('delimiters', () => {
  it('detects ; from a header with more semicolons than commas, outside quotes', () => {
    expect(detectDelimiter('E-mail;Consent;Date')).toBe(';');
    expect(detectDelimiter('"a,b,c";d;e')).toBe(';');
    expect(detectDelimiter('a,b;c,d')).toBe(',');
    expect(detectDelimiter('email')).toBe(',');
    expect(detectDelimiter('a\tb\tc')).toBe('\t');
  });

  it('reads the delimiter parameter and refuses others', () => {
    expect(parseDelimiter(';')).toBe(';');
    expect(parseDelimiter(',')).toBe(',');
    expect(parseDelimiter('semicolon')).toBe(';');
    expect(parseDelimiter('\t')).toBe('\t');
    expect(thrownAppError(() => parseDelimiter('|')).errors[0]?.field).toBe('delimiter');
  });
});

describe('resolveColumns', () => {
  it('matches mapped columns trimmed, case-insensitively and without a BOM', () => {
    const columns = resolveColumns(['\uFEFF E-Mail ', 'CONSENT', 'Date'], parseMapping('e-mail:email,Consent:hasTrackingConsent'));
    expect(columns).toEqual([
      { index: 0, column: 'e-mail', target: 'email' },
      { index: 1, column: 'Consent', target: 'hasTrackingConsent' },
    ]);
  });

  it('refuses a mapped column missing from the header, and a mapping without email or externalId', () => {
    expect(thrownAppError(() => resolveColumns(['email'], parseMapping('Mail:email'))).message).toContain('"Mail" is not in the header');
    const noKey = thrownAppError(() => resolveColumns(['a', 'b'], parseMapping('a:phone')));
    expect(noKey.errors[0]).toEqual({ field: 'map', reason: 'no column is mapped to email or externalId' });
  });

  it('without a mapping, columns named like targets map themselves and the rest become custom fields', () => {
    expect(resolveColumns(['Email', 'has_tracking_consent', 'dtTrackingConsent', 'External-Id', 'City', 'fields.zip', ''], null)).toEqual([
      { index: 0, column: 'Email', target: 'email' },
      { index: 1, column: 'has_tracking_consent', target: 'hasTrackingConsent' },
      { index: 2, column: 'dtTrackingConsent', target: 'dtTrackingConsent' },
      { index: 3, column: 'External-Id', target: 'externalId' },
      { index: 4, column: 'City', target: 'fields.City' },
      { index: 5, column: 'fields.zip', target: 'fields.zip' },
    ]);
  });

  it('without a mapping, a header with no email or externalId column is refused on map', () => {
    expect(thrownAppError(() => resolveColumns(['name', 'city'], null)).errors[0]?.field).toBe('map');
  });
});

describe('rowToRecord', () => {
  const columns = resolveColumns(['E-mail', 'Consent', 'Date', 'City', 'Phone'], parseMapping('E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent,City:fields.city,Phone:phone'));
  const start = '2026-01-01T00:00:00.000Z';

  it('trims cells and fills custom fields', () => {
    expect(rowToRecord([' ana@example.com ', '0', '2025.11.02', 'Lyon', '+33 1'], columns, start)).toEqual({
      email: 'ana@example.com',
      hasTrackingConsent: '0',
      dtTrackingConsent: '2025.11.02',
      fields: { city: 'Lyon' },
      phone: '+33 1',
    });
  });

  it('a consent value without a date takes the import start; empty cells are left out', () => {
    expect(rowToRecord(['ana@example.com', '1', '', '', ''], columns, start)).toEqual({ email: 'ana@example.com', hasTrackingConsent: '1', dtTrackingConsent: start });
    expect(rowToRecord(['ana@example.com', '', '', '', ''], columns, start)).toEqual({ email: 'ana@example.com' });
  });

  it('recognises blank rows', () => {
    expect(isBlankRow(['', ' ', ''])).toBe(true);
    expect(isBlankRow(['', 'x'])).toBe(false);
  });
});
