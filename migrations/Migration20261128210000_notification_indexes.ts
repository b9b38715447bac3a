import { Migration } from '@mikro-orm/migrations';

/**
 * notifications.onNew reads a user's notifications after an id, and markRead checks ids belong
 * to the caller: both by (user_id, id). The initial (user_id, created_at desc) index serves the
 * newest-first list only. On the partitioned table this makes one index per partition.
 */
export class Migration20261128210000_notification_indexes extends Migration {
  override up(): void {
    this.addSql('create index if not exists user_notifications_user_id_idx on user_notifications (user_id, id);');
  }

  override down(): void {
    this.addSql('drop index if exists user_notifications_user_id_idx;');
  }
}
