import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPublicAddress, nextAttemptAt, urlProblem, WEBHOOK_RETRY_WINDOW_MS, webhookSignature } from './webhook.js';

describe('isPublicAddress', () => {
  it('refuses loopback, private, link-local, unique-local, CGNAT, multicast, unspecified and their IPv4-mapped forms', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '0.0.0.0', '255.255.255.255', '::', '::1', 'fc00::1', 'fd12::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '::127.0.0.1']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34']) expect(isPublicAddress(a), a).toBe(true);
  });
});

describe('nextAttemptAt', () => {
  it('doubles the wait after each failed attempt, up to an hour, and gives up after 24 h', () => {
    expect(nextAttemptAt(0, 1, 0)).toBe(1000);
    expect(nextAttemptAt(0, 2, 1000)).toBe(3000);
    expect(nextAttemptAt(0, 3, 3000)).toBe(7000);
    expect(nextAttemptAt(0, 40, 10 * 3600_000)).toBe(11 * 3600_000);
    expect(nextAttemptAt(0, 40, WEBHOOK_RETRY_WINDOW_MS - 1000)).toBeNull();
  });
});

describe('webhookSignature', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    const body = '{"id":"x"}';
    const expected = createHmac('sha256', 'k').update(`1700000000.${body}`).digest('hex');
    expect(webhookSignature('k', 1700000000, body)).toBe(`t=1700000000,v1=${expected}`);
  });
});

describe('urlProblem', () => {
  it('accepts http(s) only, without credentials', () => {
    expect(urlProblem('https://crm.example.com/hook')).toBeNull();
    expect(urlProblem('ftp://crm.example.com/')).not.toBeNull();
    expect(urlProblem('https://user:pw@crm.example.com/')).not.toBeNull();
    expect(urlProblem('not a url')).not.toBeNull();
  });
});
