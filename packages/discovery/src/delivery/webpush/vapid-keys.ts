import webpush from 'web-push';
import type { Config } from '@dropwatch/core';
import { ServerKey, type EntityManager } from '@dropwatch/db';
import type { VapidKeys } from '../channel-env.js';

export type VapidSettings = Pick<Config, 'VAPID_PUBLIC_KEY' | 'VAPID_PRIVATE_KEY' | 'VAPID_SUBJECT'>;

/** The server_keys row of the generated VAPID pair. */
export const VAPID_KEY_NAME = 'vapid';

/**
 * The VAPID key pair: VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY when set; otherwise the pair kept in
 * `server_keys`, generated on first use (the first `destinations.vapidPublicKey` or the first
 * push, whichever comes first) and inserted with ON CONFLICT DO NOTHING, so concurrent processes
 * agree on one pair and restarts keep it (a new pair would void every browser's subscription).
 */
export async function loadVapidKeys(em: EntityManager, settings: VapidSettings): Promise<VapidKeys> {
  if (settings.VAPID_PUBLIC_KEY && settings.VAPID_PRIVATE_KEY) {
    return {
      publicKey: settings.VAPID_PUBLIC_KEY,
      privateKey: settings.VAPID_PRIVATE_KEY,
      subject: settings.VAPID_SUBJECT,
    };
  }
  const read = () =>
    em.findOne(ServerKey, { name: VAPID_KEY_NAME }, { fields: ['publicKey', 'privateKey'], disableIdentityMap: true });
  let row = await read();
  if (!row) {
    const pair = webpush.generateVAPIDKeys();
    await em
      .createQueryBuilder(ServerKey)
      .insert({ name: VAPID_KEY_NAME, publicKey: pair.publicKey, privateKey: pair.privateKey })
      .onConflict('name')
      .ignore()
      .execute();
    row = await read();
  }
  if (!row) throw new Error('the VAPID key pair could not be stored');
  return { publicKey: row.publicKey, privateKey: row.privateKey, subject: settings.VAPID_SUBJECT };
}
