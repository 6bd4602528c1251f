import { messagePayload } from './message-format.js';
import type { OutgoingMessage, Transport } from './transport.js';

const TIMEOUT_MS = 10_000;

/** POSTs each message as JSON to the provider URL; anything but a 2xx answer is a failure. */
export class WebhookTransport implements Transport {
  constructor(private readonly url: string) {
    new URL(url);
  }

  async send(message: OutgoingMessage): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(messagePayload(message)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // Drain the body so the connection goes back to the pool.
    const detail = await response.text().catch(() => '');
    if (!response.ok) throw new Error(`Webhook answered ${response.status} ${response.statusText}: ${detail.slice(0, 200)}`);
  }

  /** What an webhook receiver was handed when its sender crashed cannot be known from here. */
  async recover(): Promise<null> {
    return null;
  }

  async sweep(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}
