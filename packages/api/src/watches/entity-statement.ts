import type { EntityManager } from '@dropwatch/db';

type EntityMeta = Parameters<ReturnType<EntityManager['getDriver']>['mapResult']>[1];

/** What the statement's builder returns: one of the entity's query builders, not executed. */
interface BuiltQuery {
  toQuery(): { _sql: { sql: string; bindings?: readonly unknown[] } };
}

/** The statement as one ORM's query builder wrote it, and where each binding comes from. */
interface Compiled {
  readonly sql: string;
  /** Per binding: the name of the parameter it takes, or the constant the builder bound. */
  readonly bindings: readonly ({ readonly param: string } | { readonly value: unknown })[];
  readonly meta: EntityMeta;
}

/**
 * A statement of one entity written by its query builder once per ORM and run afterwards with new
 * parameter values, its rows mapped to the entity's properties (not managed entities).
 *
 * Why: building a query (criteria to columns, knex's compilation) costs more CPU than sending it
 * and mapping a few rows back, and a request that reads or writes one small aggregate spends most
 * of its own CPU there. The table, the columns and the mapping still come from the entity's
 * metadata, so an entity change changes the statement.
 *
 * The builder is called once with a marker in place of each parameter and must bind each marker
 * exactly once, unchanged (a conversion of the value would hide it; this throws then). Parameter
 * values are therefore bound as given, without the entity's type conversions: pass them in the
 * database's form (text dates, numbers, strings, null).
 */
export class EntityStatement<P extends Record<string, unknown>, Row> {
  /** Per ORM (forks share their ORM's metadata). */
  private readonly compiled = new WeakMap<object, Compiled>();

  constructor(
    private readonly entityName: string,
    private readonly params: readonly (keyof P & string)[],
    private readonly build: (em: EntityManager, params: P) => BuiltQuery,
    /** Writes always run on the primary; reads go where the ORM sends the query builder's reads. */
    private readonly kind: 'read' | 'write',
  ) {}

  private compile(em: EntityManager): Compiled {
    const metadata = em.getMetadata();
    const known = this.compiled.get(metadata);
    if (known) return known;
    const tag = `\u0000dropwatch-param:${Math.random().toString(36).slice(2)}:`;
    const markers = Object.fromEntries(this.params.map((name) => [name, `${tag}${name}`])) as unknown as P;
    const { sql, bindings = [] } = this.build(em, markers).toQuery()._sql;
    const seen = new Set<string>();
    const compiled: Compiled = {
      sql,
      bindings: bindings.map((value) => {
        if (typeof value !== 'string' || !value.startsWith(tag)) return { value };
        const param = value.slice(tag.length);
        if (seen.has(param)) throw new Error(`${this.entityName} statement binds ${param} twice`);
        seen.add(param);
        return { param };
      }),
      meta: metadata.get(this.entityName),
    };
    const missing = this.params.filter((name) => !seen.has(name));
    if (missing.length > 0)
      throw new Error(`${this.entityName} statement does not bind ${missing.join(', ')} as given`);
    this.compiled.set(metadata, compiled);
    return compiled;
  }

  /** Runs the statement (in `em`'s transaction, if any) and returns its rows as entity properties. */
  async run(em: EntityManager, params: P): Promise<Row[]> {
    const { sql, bindings, meta } = this.compile(em);
    const values = bindings.map((b) => ('param' in b ? params[b.param] : b.value));
    const preferRead = this.kind === 'read' && em.config.get('preferReadReplicas');
    const rows = await em
      .getConnection(preferRead ? 'read' : 'write')
      .execute<Record<string, unknown>[]>(sql, values, 'all', em.getTransactionContext());
    const driver = em.getDriver();
    return rows.map((row) => driver.mapResult(row, meta) as Row);
  }
}
