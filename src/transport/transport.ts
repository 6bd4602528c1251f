import type { Config } from '../config.js';
import { OutboxTransport } from './outbox.js';
import { SmtpTransport } from './smtp.js';
import { WebhookTransport } from './webhook.js';

/** One rendered message for one recipient, as the sending job hands it over. */
export interface OutgoingMessage {
  projectId: number;
  sendingId: number;
  channel: 'email' | 'sms' | 'push';
  to: string;
  from: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  pushTitle: string | null;
  pushUrl: string | null;
  headers: Record<string, string>;
  /** Unique per recipient within the sending, safe as a file name. */
  recipientKey: string;
}

/** Where rendered messages go. `send` resolves once the message is accepted; it throws on failure. */
export interface Transport {
  send(message: OutgoingMessage): Promise<void>;
  /**
   * After a crash: which of these recipients of a sending the transport already holds a whole message
   * for, once what a crashed writer left half-written for them is removed. Null when it cannot tell (a
   * message handed to an SMTP server or a webhook may or may not have gone): those are lost, never resent.
   */
  recover(channel: OutgoingMessage['channel'], sendingId: number, recipientKeys: string[]): Promise<Set<string> | null>;
  /** Removes what crashed writers left half-written for sendings no longer running (`running` says which are); returns how many. */
  sweep(running: (sendingId: number) => boolean): Promise<number>;
  close(): Promise<void>;
}

/** Routes email to one transport and SMS/push to another. */
class ChannelRouter implements Transport {
  constructor(
    private readonly email: Transport,
    private readonly other: Transport | null,
    private readonly missing: string,
  ) {}

  send(message: OutgoingMessage): Promise<void> {
    if (message.channel === 'email') return this.email.send(message);
    if (!this.other) return Promise.reject(new Error(`Cannot send ${message.channel}: ${this.missing}`));
    return this.other.send(message);
  }

  async recover(channel: OutgoingMessage['channel'], sendingId: number, recipientKeys: string[]): Promise<Set<string> | null> {
    const transport = channel === 'email' ? this.email : this.other;
    return transport ? transport.recover(channel, sendingId, recipientKeys) : null;
  }

  async sweep(running: (sendingId: number) => boolean): Promise<number> {
    return (await this.email.sweep(running)) + ((await this.other?.sweep(running)) ?? 0);
  }

  async close(): Promise<void> {
    await Promise.all([this.email.close(), this.other?.close()]);
  }
}

/**
 * The transport named by TRACKGUARD_TRANSPORT (SPEC §9):
 * - `outbox`: every message becomes a file under `<dataDir>/outbox/<sendingId>/`;
 * - `smtp`: email through SMTP_URL; SMS and push through the webhook when one is configured;
 * - `webhook`: SMS and push (and email, unless SMTP_URL is set) POSTed to TRACKGUARD_WEBHOOK_URL.
 */
export function createTransport(config: Config): Transport {
  switch (config.transport) {
    case 'null':
      return nullTransport();
    case 'outbox':
      return new OutboxTransport(config.dataDir);
    case 'smtp': {
      if (!config.smtpUrl) throw new Error('TRACKGUARD_TRANSPORT=smtp needs SMTP_URL');
      const webhook = config.webhookUrl ? new WebhookTransport(config.webhookUrl) : null;
      return new ChannelRouter(new SmtpTransport(config.smtpUrl), webhook, 'set TRACKGUARD_WEBHOOK_URL to send SMS and push');
    }
    case 'webhook': {
      if (!config.webhookUrl) throw new Error('TRACKGUARD_TRANSPORT=webhook needs TRACKGUARD_WEBHOOK_URL');
      const webhook = new WebhookTransport(config.webhookUrl);
      return config.smtpUrl ? new ChannelRouter(new SmtpTransport(config.smtpUrl), webhook, '') : webhook;
    }
  }
}

/** A transport that accepts and drops everything; counts what it got (benchmarks). */
export function nullTransport(): Transport & { sent: number } {
  return {
    sent: 0,
    send() {
      this.sent++;
      return Promise.resolve();
    },
    recover: () => Promise.resolve(null),
    sweep: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
}
