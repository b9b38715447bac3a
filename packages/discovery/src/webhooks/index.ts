export * from './webhook-limits.js';
export { generateWebhookSecret, signWebhook, verifyWebhook } from './webhook-signature.js';
export { assertWebhookTarget, isBlockedAddress, parseWebhookUrl, guardedLookup, type LookupAll } from './webhook-url.js';
export { postWebhook, type WebhookPostResult } from './webhook-post.js';
export { deliverDueWebhooks, type DeliveryOptions, type DeliveryStats } from './deliver-webhooks.js';
