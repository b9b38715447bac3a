import type { AnyChannel } from './delivery-channel.js';
import { emailChannel } from './email/email-channel.js';
import { ntfyChannel } from './ntfy/ntfy-channel.js';
import { telegramChannel } from './telegram/telegram-channel.js';
import { webhookChannel } from './webhook/webhook-channel.js';
import { webPushChannel } from './webpush/webpush-channel.js';

/**
 * Every delivery channel, registered once: the fan-out writes their outbox rows and the
 * delivery loop sends them. Adding a channel = its folder under delivery/ plus one entry here
 * (and its name in DESTINATION_CHANNELS and the destinations table's check).
 */
export const DELIVERY_CHANNELS: readonly AnyChannel[] = [
  webhookChannel,
  ntfyChannel,
  telegramChannel,
  emailChannel,
  webPushChannel,
].map((c) => c as unknown as AnyChannel);

/** The registered channel of a name. */
export function channelOf(name: string): AnyChannel | undefined {
  return DELIVERY_CHANNELS.find((c) => c.name === name);
}

const CHANNEL_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** Channel names go into SQL text as literals: refuse anything but a plain identifier. */
export function assertChannelNames(channels: readonly { readonly name: string }[]): void {
  const seen = new Set<string>();
  for (const c of channels) {
    if (!CHANNEL_NAME.test(c.name))
      throw new Error(`delivery channel name ${JSON.stringify(c.name)} must match ${CHANNEL_NAME.source}`);
    if (seen.has(c.name)) throw new Error(`delivery channel ${c.name} is registered twice`);
    seen.add(c.name);
  }
}
