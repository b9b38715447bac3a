import type { DeliveryEvent } from './delivery-event.js';

/** An event as the human channels (ntfy, Telegram, email, Web Push) show it. */
export interface EventMessage {
  readonly title: string;
  /** One or two plain-text lines. */
  readonly body: string;
  /** Where tapping it leads: the venue's booking page, when the provider gave one. */
  readonly url: string | null;
}

const partyText = (sizes: readonly number[]) =>
  sizes.length === 0 ? '' : ` · party of ${sizes.length === 1 ? sizes[0] : sizes.join(' or ')}`;

export function eventMessage(event: DeliveryEvent): EventMessage {
  if (event.type !== 'drop.opened') {
    return { title: 'dropwatch test', body: 'This destination receives dropwatch notifications.', url: null };
  }
  const { drop } = event.data;
  const where = drop.venue.neighborhood ? ` (${drop.venue.neighborhood})` : '';
  return {
    title: `Table at ${drop.venue.name}`,
    body: `${drop.slotDate} ${drop.slotTime}${partyText(drop.partySizes)}${where}`,
    url: drop.venue.bookingUrl,
  };
}
