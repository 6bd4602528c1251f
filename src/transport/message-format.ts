import type Mail from 'nodemailer/lib/mailer/index.js';
import type { OutgoingMessage } from './transport.js';

/** nodemailer options for an email: the caller's headers (List-Unsubscribe …) go out as given. */
export function mailOptions(message: OutgoingMessage): Mail.Options {
  return {
    from: message.from,
    to: message.to,
    subject: message.subject ?? '',
    ...(message.html !== null ? { html: message.html } : {}),
    ...(message.text !== null ? { text: message.text } : {}),
    headers: message.headers,
  };
}

/**
 * The JSON body of an SMS or push (webhook POST and outbox `.json` file); email
 * through a webhook carries its subject, HTML, text and headers.
 */
export function messagePayload(message: OutgoingMessage): Record<string, unknown> {
  const common = {
    channel: message.channel,
    projectId: String(message.projectId),
    sendingId: String(message.sendingId),
    recipientKey: message.recipientKey,
    to: message.to,
    from: message.from,
  };
  switch (message.channel) {
    case 'sms':
      return { ...common, text: message.text ?? '' };
    case 'push':
      return { ...common, title: message.pushTitle, body: message.text, url: message.pushUrl };
    case 'email':
      return { ...common, subject: message.subject, html: message.html, text: message.text, headers: message.headers };
  }
}
