import { Migration } from '@mikro-orm/migrations';

/**
 * A browser's EventSource cannot send an Authorization header, so a subscription from a page
 * authenticates with a short-lived, single-use ticket in its URL instead of the long-lived
 * token. Only the ticket's sha256 is stored; retention removes expired tickets.
 */
export class Migration20261212000000_stream_tickets extends Migration {
  override up(): void {
    this.addSql(`
create table if not exists stream_tickets (
  ticket_hash text primary key,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz null
);
create index if not exists stream_tickets_user_expires_idx on stream_tickets (user_id, expires_at);
create index if not exists stream_tickets_expires_at_idx on stream_tickets (expires_at);
`);
  }

  override down(): void {
    this.addSql('drop table if exists stream_tickets;');
  }
}
