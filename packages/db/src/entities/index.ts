import { ApiToken } from './api-token.entity.js';
import { AvailabilityState } from './availability-state.entity.js';
import { BucketSlot } from './bucket-slot.entity.js';
import { ConsumerCursor } from './consumer-cursor.entity.js';
import { Destination } from './destination.entity.js';
import { DiscoveryBucket } from './discovery-bucket.entity.js';
import { DropEvent } from './drop-event.entity.js';
import { FeedCache } from './feed-cache.entity.js';
import { JobLease } from './job-lease.entity.js';
import { JobRun } from './job-run.entity.js';
import { ServerKey } from './server-key.entity.js';
import { StreamTicket } from './stream-ticket.entity.js';
import { User } from './user.entity.js';
import { UserNotification } from './user-notification.entity.js';
import { Venue } from './venue.entity.js';
import { VenueMetric } from './venue-metric.entity.js';
import { Watch } from './watch.entity.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';

export {
  ApiToken,
  AvailabilityState,
  BucketSlot,
  ConsumerCursor,
  Destination,
  DiscoveryBucket,
  DropEvent,
  FeedCache,
  JobLease,
  JobRun,
  ServerKey,
  StreamTicket,
  User,
  UserNotification,
  Venue,
  VenueMetric,
  Watch,
  WebhookDelivery,
};

export const ENTITIES = [
  ApiToken,
  AvailabilityState,
  BucketSlot,
  ConsumerCursor,
  Destination,
  DiscoveryBucket,
  DropEvent,
  FeedCache,
  JobLease,
  JobRun,
  ServerKey,
  StreamTicket,
  User,
  UserNotification,
  Venue,
  VenueMetric,
  Watch,
  WebhookDelivery,
];
export { DESTINATION_CHANNELS, type DestinationChannelName, type DestinationRow } from './destination.entity.js';
export type { WatchRow } from './watch.entity.js';
