export * from './delivery-limits.js';
export {
  retryDelayMs,
  type Delivery,
  type DeliveryChannel,
  type RetryPolicy,
  type SendContext,
  type SendOutcome,
} from './delivery-channel.js';
export { DROP_OPENED_EVENT_TYPE, type DeliveryEvent } from './delivery-event.js';
export { deliverDue, emptyDeliveryStats, type DeliveryOptions, type DeliveryStats } from './deliver-due.js';
export { DELIVERY_CHANNELS } from './channels.js';
export * from './webhook/index.js';
