import type { Subscription } from '@nats-io/transport-node';
import type { ChangeChannel } from '../services/change-notifier.js';
import type { NatsLink } from './nats-link.js';

/**
 * Change notifications over a core NATS subject (`<prefix>.changes`), used
 * instead of PostgreSQL LISTEN/NOTIFY when the queue is configured. Each time
 * the link comes up again after the first time, notifications may have been
 * missed: that is reported as a gap (caches are emptied).
 */
export function natsChangeChannel(link: NatsLink): ChangeChannel {
  let subscription: Subscription | undefined;
  let listening = false;
  let connectedOnce = false;
  return {
    async send(payload) {
      const nc = link.nc;
      if (!link.up || !nc) throw new Error('NATS unavailable');
      nc.publish(link.names.changeSubject, payload);
    },
    async listen(onPayload, onGap) {
      if (listening) return;
      listening = true;
      link.onUp(() => {
        const nc = link.nc;
        if (!nc) return;
        // The client subscribes again by itself after a reconnection; a new connection needs a new subscription.
        if (!subscription || subscription.isClosed()) {
          subscription = nc.subscribe(link.names.changeSubject, {
            callback: (error, message) => {
              if (!error) onPayload(message.string());
            },
          });
        }
        if (connectedOnce) onGap();
        connectedOnce = true;
      });
    },
    async close() {
      subscription?.unsubscribe();
      subscription = undefined;
    },
  };
}
