import type { Config } from '../config.js';
import { isValidEmail, normalizeEmail } from '../domain/contact.js';
import { badInput } from '../domain/errors.js';
import { prepareMessage, renderMessage } from '../domain/render.js';
import { findContactsByKeys } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import type { OutgoingMessage, Transport } from '../transport/transport.js';
import { contentOf, type MessageService } from './messages.service.js';

/** At most this many addresses per test-send. */
export const TEST_SEND_MAX = 10;
const PHONE = /^\+?[0-9 ().-]{6,20}$/;

export interface TestSendResult {
  sent: string[];
}

/**
 * Test-sends a message to addresses the user types (SPEC §6, issue 12 item 7):
 * rendered as a recipient would get it, merge tags filled from the project's
 * contact with that address when there is one, but nothing is tracked — links
 * go straight to their destinations, no open pixel, no tracking footer, no
 * event or delivery row — and the message says it is a test (subject prefix
 * and an `X-Trackguard-Test` header). Contact pages behind the links are
 * inert test addresses, so a tester cannot unsubscribe anybody by clicking.
 */
export class MessageTestService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Pick<Config, 'publicUrl' | 'fromAddress'>,
    private readonly messages: MessageService,
    private readonly transport: Transport,
  ) {}

  async send(projectId: number, messageId: number, to: readonly string[]): Promise<TestSendResult> {
    const message = await this.messages.get(projectId, messageId);
    const addresses = [...new Set(to.map((a) => a.trim()))];
    if (addresses.length === 0 || addresses.length > TEST_SEND_MAX) throw badInput('to', `give 1 to ${TEST_SEND_MAX} addresses`);
    addresses.forEach((address, i) => {
      const valid = message.channel === 'email' ? isValidEmail(address) : message.channel === 'sms' ? PHONE.test(address) : address.length > 0 && address.length <= 200;
      if (!valid) throw badInput(`to.${i}`, message.channel === 'email' ? 'must be an email address' : message.channel === 'sms' ? 'must be a phone number' : 'must be a device or contact id of 1 to 200 characters');
    });
    const prepared = prepareMessage(contentOf(message));
    const known = message.channel === 'email' ? await findContactsByKeys(this.db, projectId, addresses.map(normalizeEmail), []) : [];
    const inert = (purpose: string) => `${this.config.publicUrl}/f/${purpose}/test`;
    const stamp = this.clock();
    const sent: string[] = [];
    for (const [i, address] of addresses.entries()) {
      const contact = known.find((c) => c.email === normalizeEmail(address));
      const rendered = renderMessage(prepared, {
        contact: { id: contact?.id ?? 0, email: contact?.email ?? address, phone: contact?.phone ?? null, externalId: contact?.externalId ?? null, fields: contact?.fields ?? {} },
        message: { id: message.id, name: message.name },
        sending: { id: 0 },
        urls: { unsubscribeUrl: inert('unsubscribe'), trackingOptOutUrl: inert('tracking-optout'), profileUrl: inert('profile') },
        clickUrl: (linkIdx) => prepared.links[linkIdx - 1] ?? '',
        openUrl: null,
      });
      const outgoing: OutgoingMessage = {
        projectId,
        sendingId: 0,
        channel: message.channel,
        to: address,
        from: message.from ?? this.config.fromAddress,
        subject: rendered.subject === null ? null : `[Test] ${rendered.subject}`,
        html: rendered.html,
        text: rendered.text,
        pushTitle: rendered.pushTitle,
        pushUrl: rendered.pushUrl,
        headers: { 'X-Trackguard-Test': '1' },
        recipientKey: `test-${message.id}-${stamp}-${i}`,
      };
      await this.transport.send(outgoing);
      sent.push(address);
    }
    return { sent };
  }
}
