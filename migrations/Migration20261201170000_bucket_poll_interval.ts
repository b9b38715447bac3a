import { Migration } from '@mikro-orm/migrations';

/**
 * The continuous poller picks each bucket's next poll by expected value, so buckets are polled
 * at different rates: discovery_buckets keeps the seconds between a bucket's last two polls,
 * for health.buckets and /metrics.
 */
export class Migration20261201170000_bucket_poll_interval extends Migration {
  override up(): void {
    this.addSql('alter table discovery_buckets add column if not exists poll_interval_seconds double precision null;');
  }

  override down(): void {
    this.addSql('alter table discovery_buckets drop column if exists poll_interval_seconds;');
  }
}
