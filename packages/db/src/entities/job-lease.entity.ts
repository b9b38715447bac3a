import { defineEntity, p } from '@mikro-orm/core';

/** A singleton job's lease across replicas (works behind PgBouncer, unlike session locks). */
export const JobLease = defineEntity({
  name: 'JobLease',
  tableName: 'job_leases',
  properties: {
    name: p.string().primary(),
    holder: p.string(),
    expiresAt: p.datetime(),
    acquiredAt: p.datetime().defaultRaw('now()'),
  },
});
