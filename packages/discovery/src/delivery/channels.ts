import type { DeliveryChannel } from './delivery-channel.js';
import { webhookChannel } from './webhook/webhook-channel.js';

/**
 * Every delivery channel, registered once: the fan-out writes their outbox rows and the
 * delivery loop sends them. Adding a channel = its folder under delivery/ plus one entry here.
 */
export const DELIVERY_CHANNELS: readonly DeliveryChannel[] = [webhookChannel];

const CHANNEL_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** Channel names go into SQL text as literals: refuse anything but a plain identifier. */
export function assertChannelNames(channels: readonly DeliveryChannel[]): void {
  const seen = new Set<string>();
  for (const c of channels) {
    if (!CHANNEL_NAME.test(c.name))
      throw new Error(`delivery channel name ${JSON.stringify(c.name)} must match ${CHANNEL_NAME.source}`);
    if (seen.has(c.name)) throw new Error(`delivery channel ${c.name} is registered twice`);
    seen.add(c.name);
  }
}
