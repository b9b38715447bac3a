import { SETTINGS, type Config } from '@dropwatch/core';
import type { EntityManager } from '@dropwatch/db';
import { loadVapidKeys } from './webpush/vapid-keys.js';

/** The settings the channels read (each defaults as the settings schema says). */
export type ChannelSettings = Pick<
  Config,
  'TELEGRAM_API_URL' | 'SMTP_URL' | 'SMTP_FROM' | 'VAPID_PUBLIC_KEY' | 'VAPID_PRIVATE_KEY' | 'VAPID_SUBJECT'
>;

export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly subject: string;
}

/** What sends need from the process beyond the destination. */
export interface ChannelEnv {
  readonly telegramApiUrl: string;
  readonly smtpUrl: string | null;
  readonly smtpFrom: string;
  /** The Web Push VAPID keys: the configured pair, else the one kept in server_keys (made on first use). */
  readonly vapid: () => Promise<VapidKeys>;
}

/**
 * The channel environment of one delivery pass or API call: settings (absent ones take the
 * schema's defaults) and the VAPID keys, loaded at most once and only if a push is sent.
 */
export function channelEnv(em: EntityManager, settings: Partial<ChannelSettings>): ChannelEnv {
  let vapid: Promise<VapidKeys> | undefined;
  return {
    telegramApiUrl: settings.TELEGRAM_API_URL ?? SETTINGS.TELEGRAM_API_URL.default ?? '',
    smtpUrl: settings.SMTP_URL ?? null,
    smtpFrom: settings.SMTP_FROM ?? SETTINGS.SMTP_FROM.default ?? '',
    vapid: () =>
      (vapid ??= loadVapidKeys(em, {
        VAPID_PUBLIC_KEY: settings.VAPID_PUBLIC_KEY,
        VAPID_PRIVATE_KEY: settings.VAPID_PRIVATE_KEY,
        VAPID_SUBJECT: settings.VAPID_SUBJECT ?? SETTINGS.VAPID_SUBJECT.default ?? '',
      })),
  };
}
