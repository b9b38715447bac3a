import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '@dropwatch/core';
import { WEBHOOK_URL_MAX_LENGTH } from './webhook-limits.js';

/**
 * Addresses a webhook may not reach (unless WEBHOOK_ALLOW_PRIVATE): loopback, private,
 * link-local, unspecified, shared (CGNAT), multicast/broadcast, and their IPv6 forms, so a
 * webhook cannot be used to reach inside the network.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** True when `address` (an IP literal) is one a webhook must not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return BLOCKED.check(mapped[1], 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true;
}

/** Parses a webhook URL: http(s) only, no credentials, bounded length. Throws AppError BAD_INPUT. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('BAD_INPUT', 'webhook url is not a valid URL');
  }
  if (raw.length > WEBHOOK_URL_MAX_LENGTH) throw new AppError('BAD_INPUT', 'webhook url is too long');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('BAD_INPUT', 'webhook url must be http or https');
  if (url.username || url.password) throw new AppError('BAD_INPUT', 'webhook url must not carry credentials');
  return url;
}

const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

const systemLookupAll: LookupAll = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/**
 * Resolves the URL's host and refuses it when any address is blocked (and private targets are
 * not allowed). Called when a webhook is set; delivery checks again at connect time (see
 * `guardedLookup`), because DNS can change after the URL was accepted.
 */
export async function assertWebhookTarget(url: URL, allowPrivate: boolean, lookupAll: LookupAll = systemLookupAll): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  let addresses: { address: string }[];
  try {
    addresses = isIP(host) ? [{ address: host }] : await lookupAll(host);
  } catch {
    throw new AppError('BAD_INPUT', 'webhook host does not resolve');
  }
  if (addresses.length === 0 || addresses.some((a) => isBlockedAddress(a.address))) {
    throw new AppError('BAD_INPUT', 'webhook host resolves to a loopback, private or link-local address');
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

/**
 * A `lookup` for http(s).request that resolves the host and refuses blocked addresses at connect
 * time: the address checked is the address connected to (no gap for DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const ok = allowPrivate ? addresses : addresses.filter((a) => !isBlockedAddress(a.address));
      const first = ok[0];
      if (!first) {
        const refused = Object.assign(new Error('webhook host resolves to a blocked address'), { code: 'EBLOCKED' });
        return callback(refused, '');
      }
      if (options.all) return callback(null, ok);
      callback(null, first.address, first.family);
    });
  };
}
