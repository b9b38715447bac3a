import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks move to Standard Webhooks 1.0 and delivery becomes a seam over channels.
 *
 * - users: the previous signing secret and until when it still signs (secret rotation), and
 *   when and why the webhook was disabled (a receiver answered 410 Gone).
 * - webhook_deliveries (the outbox of every channel; the name is kept so retention and prune
 *   report it as before): `channel` says which channel sends the row. `url` goes: a delivery
 *   is sent to the user's current destination, read at each attempt.
 * - Secrets issued before were `whsec_` + base64url; Standard Webhooks reads the part after the
 *   prefix as standard base64. They are rewritten to the standard alphabet (same key bytes), so
 *   a receiver using a Standard Webhooks library verifies them after updating its code.
 */
export class Migration20261214000000_standard_webhooks extends Migration {
  override up(): void {
    this.addSql(`
alter table users
  add column if not exists webhook_secret_previous text null,
  add column if not exists webhook_secret_previous_until timestamptz null,
  add column if not exists webhook_disabled_at timestamptz null,
  add column if not exists webhook_disabled_reason text null;
update users
  set webhook_secret = 'whsec_' || translate(substr(webhook_secret, 7), '-_', '+/')
      || repeat('=', (4 - length(substr(webhook_secret, 7)) % 4) % 4)
  where webhook_secret like 'whsec\\_%';
alter table webhook_deliveries add column if not exists channel text not null default 'webhook';
alter table webhook_deliveries drop column if exists url;
`);
  }

  override down(): void {
    this.addSql(`
alter table webhook_deliveries add column if not exists url text null;
alter table webhook_deliveries drop column if exists channel;
alter table users
  drop column if exists webhook_secret_previous,
  drop column if exists webhook_secret_previous_until,
  drop column if exists webhook_disabled_at,
  drop column if exists webhook_disabled_reason;
`);
  }
}
