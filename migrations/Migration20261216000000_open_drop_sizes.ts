import { Migration } from '@mikro-orm/migrations';

/**
 * An open drop learns the party sizes it is offered at as polls see them: a poll asks one party
 * size and carries the others' answers from before the table opened, and the fast lane asks one
 * size a request, so a drop is first recorded with the sizes that saw it. A watch for another size
 * must still hear of it once a later poll sees the table at that size.
 *
 * - availability_state.party_mask: bit n set for party size n (1–20), every size the open slot
 *   has been seen at; filled from drop_events for the rows already open.
 * - availability_state.resized: the drop gained a size since the notify job last fanned it out;
 *   that job fans it out again (the unique key of user_notifications keeps anyone told once) and
 *   clears it. A slot that closes first takes the flag with its row: nobody hears of a closed table.
 */
export class Migration20261216000000_open_drop_sizes extends Migration {
  override up(): void {
    this.addSql(`
alter table availability_state add column if not exists party_mask int not null default 0;
alter table availability_state add column if not exists resized boolean not null default false;
update availability_state a
set party_mask = coalesce((select sum(1 << s)::int from drop_events d, unnest(d.party_sizes) s
                            where d.opened_minute = a.drop_opened_minute and d.id = a.drop_event_id), 0);
create index if not exists availability_state_resized_idx on availability_state (drop_event_id) where resized;`);
  }

  override down(): void {
    this.addSql(`
drop index if exists availability_state_resized_idx;
alter table availability_state drop column if exists resized;
alter table availability_state drop column if exists party_mask;`);
  }
}
