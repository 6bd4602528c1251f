import nodemailer, { type Mail } from 'nodemailer';
import { mailOptions } from './message-format.js';
import type { OutgoingMessage, Transport } from './transport.js';

/** Email through any SMTP server (SMTP_URL), over a pool of reused connections. */
export class SmtpTransport implements Transport {
  private readonly mailer: Mail;

  constructor(smtpUrl: string) {
    const url = new URL(smtpUrl);
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error(`SMTP_URL must start with smtp:// or smtps:// (got ${url.protocol})`);
    // Query parameters of the URL (e.g. ?maxConnections=10) still override these defaults.
    if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
    this.mailer = nodemailer.createTransport(url.toString());
  }

  async send(message: OutgoingMessage): Promise<void> {
    if (message.channel !== 'email') throw new Error(`The SMTP transport sends email, not ${message.channel}`);
    await this.mailer.sendMail(mailOptions(message));
  }

  /** What an SMTP server was handed when its sender crashed cannot be known from here. */
  async recover(): Promise<null> {
    return null;
  }

  async sweep(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.mailer.close();
  }
}
