import { defineEntity, p } from '@mikro-orm/core';

/** A singleton job's lease across replicas (works behind PgBouncer, unlike session locks). */
export const JobLease = defineEntity({
  name: 'JobLease',
  tableName: 'job_leases',
  properties: {
    name: p.text().primary(),
    holder: p.text(),
    expiresAt: p.datetime(),
    acquiredAt: p.datetime().defaultRaw('now()'),
  },
});
