// Transports are where a rendered message leaves trackguard: the one-click unsubscribe headers
// (RFC 8058) and the bodies must survive MIME encoding byte-exact, over real SMTP and on disk.
// No database involved, so this file does not loop over dialects.
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { purgeOutbox } from '../../src/transport/outbox.js';
import { type OutgoingMessage, createTransport, nullTransport } from '../../src/transport/transport.js';

const email = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  projectId: 1,
  sendingId: 12,
  channel: 'email',
  to: 'ann@example.org',
  from: 'News <news@example.com>',
  subject: 'Spring sale — 20 % off, Ann',
  html: '<html><body><p>Hello Ann, <a href="https://t.io/t/c/AbC_-1">shop</a></p><img src="https://t.io/t/o/XyZ" width="1" height="1" alt="" style="display:none"></body></html>',
  text: 'Hello Ann, https://t.io/t/c/AbC_-1\n\nRefuse tracking: https://t.io/f/tracking-optout/1.42.abc',
  pushTitle: null,
  pushUrl: null,
  headers: { 'List-Unsubscribe': '<https://t.io/f/unsubscribe/1.42.sig>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  recipientKey: '42',
  ...over,
});

function configFor(dataDir: string, over: Partial<Config>): Config {
  return loadConfig({}, { dataDir, secrets: ['s'], ...over });
}

function headerLine(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line?.slice(line.indexOf(':') + 1).trim();
}

function expectSameEmail(mail: ParsedMail, sent: OutgoingMessage): void {
  expect(headerLine(mail, 'List-Unsubscribe')).toBe('<https://t.io/f/unsubscribe/1.42.sig>');
  expect(headerLine(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
  expect(mail.subject).toBe(sent.subject);
  expect(mail.from?.value).toEqual([{ name: 'News', address: 'news@example.com' }]);
  expect(mail.html).toBe(sent.html);
  expect(mail.text).toBe(sent.text);
  expect(mail.messageId).toBeTruthy();
}

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'trackguard-transport-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('smtp transport', () => {
  const received: { envelopeTo: string[]; mail: ParsedMail }[] = [];
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (mail) => {
            received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers email with the one-click unsubscribe headers and both bodies intact', async () => {
    const transport = createTransport(configFor(dataDir, { transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${port}` }));
    const messages = [email(), email({ to: 'bob@example.org', recipientKey: '43', subject: 'Second' })];
    await Promise.all(messages.map((m) => transport.send(m)));
    await transport.close();
    expect(received.map((r) => r.envelopeTo)).toEqual(expect.arrayContaining([['ann@example.org'], ['bob@example.org']]));
    const ann = received.find((r) => r.envelopeTo[0] === 'ann@example.org')!;
    expectSameEmail(ann.mail, messages[0]!);
  });

  it('fails when the SMTP server is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const transport = createTransport(configFor(dataDir, { transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${deadPort}` }));
    await expect(transport.send(email())).rejects.toThrow();
    await transport.close();
  });

  it('refuses SMS without a webhook instead of dropping it', async () => {
    const transport = createTransport(configFor(dataDir, { transport: 'smtp', smtpUrl: `smtp://127.0.0.1:${port}` }));
    await expect(transport.send(email({ channel: 'sms', to: '+33600000000' }))).rejects.toThrow(/WEBHOOK/);
    await transport.close();
  });
});

describe('outbox transport', () => {
  it('writes a parseable .eml per email recipient under outbox/<sendingId>/', async () => {
    const transport = createTransport(configFor(dataDir, { transport: 'outbox' }));
    const sent = email();
    await transport.send(sent);
    const file = join(dataDir, 'outbox', '12', '42.eml');
    const mail = await simpleParser(readFileSync(file));
    expectSameEmail(mail, sent);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('ann@example.org');
    expect(readdirSync(join(dataDir, 'outbox', '12'))).toEqual(['42.eml']);
  });

  it('writes SMS and push as JSON', async () => {
    const transport = createTransport(configFor(dataDir, { transport: 'outbox' }));
    await transport.send(email({ sendingId: 13, channel: 'sms', to: '+33600000000', from: 'SHOP', subject: null, html: null, text: 'Sale https://t.io/t/c/x', headers: {}, recipientKey: '7' }));
    await transport.send(email({ sendingId: 14, channel: 'push', to: 'device-1', subject: null, html: null, text: 'Body', pushTitle: 'Title', pushUrl: 'https://t.io/t/c/y', headers: {}, recipientKey: '8' }));
    expect(JSON.parse(readFileSync(join(dataDir, 'outbox', '13', '7.json'), 'utf8'))).toMatchObject({ channel: 'sms', sendingId: '13', to: '+33600000000', from: 'SHOP', text: 'Sale https://t.io/t/c/x' });
    expect(JSON.parse(readFileSync(join(dataDir, 'outbox', '14', '8.json'), 'utf8'))).toMatchObject({ channel: 'push', to: 'device-1', title: 'Title', body: 'Body', url: 'https://t.io/t/c/y' });
  });

  it('refuses a recipient key that is not a safe file name', async () => {
    const transport = createTransport(configFor(dataDir, { transport: 'outbox' }));
    await expect(transport.send(email({ recipientKey: '../../etc/x' }))).rejects.toThrow(/safe file name/);
  });

  it('purges files older than the retention and the folders left empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trackguard-purge-'));
    try {
      const transport = createTransport(configFor(dir, { transport: 'outbox' }));
      await transport.send(email({ sendingId: 1, recipientKey: 'old' }));
      await transport.send(email({ sendingId: 2, recipientKey: 'old' }));
      await transport.send(email({ sendingId: 2, recipientKey: 'new' }));
      const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
      utimesSync(join(dir, 'outbox', '1', 'old.eml'), tenDaysAgo, tenDaysAgo);
      utimesSync(join(dir, 'outbox', '2', 'old.eml'), tenDaysAgo, tenDaysAgo);
      expect(await purgeOutbox(dir, 7)).toBe(2);
      expect(readdirSync(join(dir, 'outbox'))).toEqual(['2']);
      expect(readdirSync(join(dir, 'outbox', '2'))).toEqual(['new.eml']);
      expect(await purgeOutbox(join(dir, 'missing'), 7)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('webhook transport', () => {
  const hits: { method: string; type: string | undefined; body: unknown }[] = [];
  let status = 200;
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => {
      hits.push({ method: req.method ?? '', type: req.headers['content-type'], body: JSON.parse(data) });
      res.writeHead(status).end(status === 200 ? 'ok' : 'provider down');
    });
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
  });
  afterEach(() => {
    status = 200;
    hits.length = 0;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs SMS, push and email as JSON', async () => {
    const transport = createTransport(configFor(dataDir, { transport: 'webhook', webhookUrl: url }));
    await transport.send(email({ channel: 'sms', to: '+33600000000', subject: null, html: null, text: 'Hi https://t.io/t/c/x', headers: {} }));
    await transport.send(email({ channel: 'push', to: 'device-1', text: 'Body', pushTitle: 'T', pushUrl: 'https://t.io/t/c/y', headers: {} }));
    await transport.send(email());
    await transport.close();
    expect(hits.map((h) => [h.method, h.type])).toEqual([['POST', 'application/json'], ['POST', 'application/json'], ['POST', 'application/json']]);
    expect(hits[0]!.body).toEqual({ channel: 'sms', projectId: '1', sendingId: '12', recipientKey: '42', to: '+33600000000', from: 'News <news@example.com>', text: 'Hi https://t.io/t/c/x' });
    expect(hits[1]!.body).toMatchObject({ channel: 'push', title: 'T', body: 'Body', url: 'https://t.io/t/c/y' });
    expect(hits[2]!.body).toMatchObject({ channel: 'email', subject: email().subject, headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } });
  });

  it('fails on a non-2xx answer', async () => {
    status = 503;
    const transport = createTransport(configFor(dataDir, { transport: 'webhook', webhookUrl: url }));
    await expect(transport.send(email({ channel: 'sms' }))).rejects.toThrow(/503/);
  });
});

describe('null transport', () => {
  it('accepts and counts', async () => {
    const transport = nullTransport();
    await transport.send(email());
    await transport.send(email());
    expect(transport.sent).toBe(2);
  });
});
