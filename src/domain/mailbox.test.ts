import { describe, expect, it } from 'vitest';
import { parseFromMailbox } from './mailbox.js';

describe('parseFromMailbox', () => {
  it.each(['news@example.com', 'News <news@example.com>', 'Ana Lima <ana@example.org>', '"Lima, Ana" <ana@example.org>', '  Équipe <team@example.fr> '])('accepts one mailbox: %j', (from) => {
    expect(parseFromMailbox(from)).toBe(from.trim());
  });

  it.each([
    ['a header injection by CR/LF', 'news@example.com\r\nBcc: victim@example.org'],
    ['a bare LF', 'News <news@example.com>\nX: y'],
    ['two addresses', 'a@example.com, b@example.com'],
    ['free text', 'our newsletter team'],
    ['free text around the address', 'write to news@example.com today'],
    ['an unquoted special in the name', 'Lima, Ana <ana@example.org>'],
    ['two angle addresses', 'A <a@example.com> <b@example.com>'],
    ['an empty value', ''],
  ])('refuses %s', (_attack, from) => {
    expect(() => parseFromMailbox(from)).toThrow(/^from: /);
  });
});
