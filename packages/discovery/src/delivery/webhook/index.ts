export * from './webhook-limits.js';
export { generateWebhookSecret, signWebhook } from './webhook-signature.js';
export {
  assertWebhookTarget,
  isBlockedAddress,
  parseWebhookUrl,
  guardedLookup,
  type LookupAll,
} from './webhook-url.js';
export { postWebhook, type WebhookPostResult } from './webhook-post.js';
export {
  checkedWebhookUrl,
  signingSecrets,
  webhookChannel,
  webhookInput,
  webhookOutcome,
  type WebhookSecrets,
  type WebhookSettings,
} from './webhook-channel.js';
