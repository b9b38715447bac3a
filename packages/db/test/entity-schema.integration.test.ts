import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../src/testing/index.js';

/**
 * The entities are the one description of the schema: MikroORM's diff of a freshly migrated
 * database against them must be empty.
 *
 * Out of the diff's sight, so not compared here (the migrations own them): the PARTITION BY
 * clauses of drop_events and user_notifications and their day partitions (MikroORM lists partitions
 * as neither tables nor differences; schema.integration.test.ts checks them), the SQL functions
 * dropwatch_ensure_partitions and dropwatch_quiet_until (MikroORM does not read functions), and
 * MikroORM's own mikro_orm_migrations table.
 */
const KNOWN_FALSE_DIFFERENCES = [
  // MikroORM 6 reads a check of the form `column = <expression with a string literal>` as an enum
  // of that literal: drop_events_opened_minute_check (opened_minute = date_trunc('minute', opened_at))
  // makes opened_minute look like an enum of 'minute' and hides the check. The entity declares the
  // check as the migration made it; the diff then "changes" the column and "re-adds" the check.
  'alter table "drop_events" drop constraint if exists "drop_events_opened_minute_check";',
  'alter table "drop_events" alter column "opened_minute" type timestamptz using ("opened_minute"::timestamptz);',
  `alter table "drop_events" add constraint drop_events_opened_minute_check check(opened_minute = date_trunc('minute'::text, opened_at));`,
];

const t = useTestDatabase({ poolMax: 2 });

function statements(sql: string): string[] {
  return sql
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

describe('entities against the migrated schema', () => {
  it('differ in nothing but the known false differences', async () => {
    const sql = await t.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
    const lines = statements(sql);
    expect(lines.filter((line) => !KNOWN_FALSE_DIFFERENCES.includes(line))).toEqual([]);
  });

  it('still sees each known false difference (drop it from the list once MikroORM reads the check)', async () => {
    const sql = await t.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
    expect(statements(sql)).toEqual(expect.arrayContaining(KNOWN_FALSE_DIFFERENCES));
  });
});
