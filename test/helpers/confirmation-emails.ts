// The double opt-in confirmation emails of a test app, as the person would receive them: tests use the outbox
// transport, which writes each email as an .eml file (they belong to no sending, so under outbox/0/).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { TestApp } from './harness.js';

export interface ConfirmationEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The confirmation link of the text part ('' when there is none). */
  link: string;
  /** The href of the HTML part's link ('' when there is none). */
  htmlLink: string;
}

/** Every confirmation email sent so far, oldest request first (waits for those still in flight). */
export async function confirmationEmails(t: TestApp): Promise<ConfirmationEmail[]> {
  await t.ctx.formSubmissions.settled();
  const dir = join(t.config.dataDir, 'outbox', '0');
  if (!existsSync(dir)) return [];
  const mails: ConfirmationEmail[] = [];
  const requestId = (name: string) => Number(/-(\d+)\.eml$/.exec(name)?.[1]);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.eml')).sort((a, b) => requestId(a) - requestId(b))) {
    const mail = await simpleParser(readFileSync(join(dir, name)));
    const text = mail.text ?? '';
    const html = typeof mail.html === 'string' ? mail.html : '';
    const link = /https?:\/\/\S+\/f\/confirm\/\S+/.exec(text)?.[0] ?? '';
    const htmlLink = (/<a href="([^"]+)"/.exec(html)?.[1] ?? '').replaceAll('&amp;', '&');
    mails.push({ to: (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.text ?? '', subject: mail.subject ?? '', text, html, link, htmlLink });
  }
  return mails;
}
