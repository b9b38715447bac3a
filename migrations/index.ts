import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128000000_initial } from './Migration20261128000000_initial.js';
import { Migration20261128210000_notification_indexes } from './Migration20261128210000_notification_indexes.js';
import { Migration20261201170000_bucket_poll_interval } from './Migration20261201170000_bucket_poll_interval.js';
import { Migration20261212000000_stream_tickets } from './Migration20261212000000_stream_tickets.js';
import { Migration20261214000000_standard_webhooks } from './Migration20261214000000_standard_webhooks.js';
import { Migration20261215000000_destinations } from './Migration20261215000000_destinations.js';
import { Migration20261216000000_open_drop_sizes } from './Migration20261216000000_open_drop_sizes.js';

/** Every migration, in order. Listed explicitly so the compiled server runs them with plain node. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261128000000_initial', class: Migration20261128000000_initial },
  { name: 'Migration20261128210000_notification_indexes', class: Migration20261128210000_notification_indexes },
  { name: 'Migration20261201170000_bucket_poll_interval', class: Migration20261201170000_bucket_poll_interval },
  { name: 'Migration20261212000000_stream_tickets', class: Migration20261212000000_stream_tickets },
  { name: 'Migration20261214000000_standard_webhooks', class: Migration20261214000000_standard_webhooks },
  { name: 'Migration20261215000000_destinations', class: Migration20261215000000_destinations },
  { name: 'Migration20261216000000_open_drop_sizes', class: Migration20261216000000_open_drop_sizes },
];
