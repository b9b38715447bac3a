export * from './delivery-limits.js';
export {
  retryDelayMs,
  type AnyChannel,
  type Delivery,
  type DeliveryChannel,
  type DestinationTarget,
  type PrepareContext,
  type PreparedDestination,
  type RetryPolicy,
  type SendContext,
  type SendOutcome,
} from './delivery-channel.js';
export { DROP_OPENED_EVENT_TYPE, type DeliveryEvent } from './delivery-event.js';
export { deliverDue, emptyDeliveryStats, type DeliveryOptions, type DeliveryStats } from './deliver-due.js';
export { DELIVERY_CHANNELS, channelOf } from './channels.js';
export { channelEnv, type ChannelEnv, type ChannelSettings, type VapidKeys } from './channel-env.js';
export { guardedRequest, type GuardedResponse } from './guarded-request.js';
export { eventMessage, type EventMessage } from './message-text.js';
export {
  CANCEL_DESTINATION_SQL,
  DESTINATION_TARGETS_SQL,
  quietUntilSql,
  toTarget,
  type DestinationTargetRow,
} from './destination-sql.js';
export * from './webhook/index.js';
export { ntfyChannel, ntfyInput, ntfyTopic, type NtfySettings, type NtfySecrets } from './ntfy/ntfy-channel.js';
export {
  telegramChannel,
  telegramInput,
  type TelegramSettings,
  type TelegramSecrets,
} from './telegram/telegram-channel.js';
export {
  emailChannel,
  emailInput,
  emailBodies,
  closeEmailTransports,
  type EmailSettings,
} from './email/email-channel.js';
export {
  webPushChannel,
  webPushInput,
  webPushPayload,
  type WebPushSecrets,
  type WebPushSettings,
} from './webpush/webpush-channel.js';
export { loadVapidKeys, VAPID_KEY_NAME } from './webpush/vapid-keys.js';
