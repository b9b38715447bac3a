import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '@dropwatch/core';
import { DELIVERY_URL_MAX_LENGTH } from '../delivery-limits.js';

const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];
/** ::/96, the deprecated IPv4-compatible form (URL parsing turns [::127.0.0.1] into [::7f00:1]). */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];

/**
 * The IPv4 address an IPv6 address carries when packets to it end up at that IPv4 host:
 * IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002:abcd:efgh::/48,
 * RFC 3056). Without unwrapping, [64:ff9b::7f00:1] or [2002:7f00:1::] would reach 127.0.0.1
 * through a translator while looking like ordinary IPv6.
 */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  if (v6.match(NAT64_WELL_KNOWN)) return v4(p[6] ?? 0, p[7] ?? 0);
  if (v6.range() === '6to4') return v4(p[1] ?? 0, p[2] ?? 0);
  return undefined;
}

/**
 * True when `address` (an IP literal) is one a webhook must not reach (unless
 * WEBHOOK_ALLOW_PRIVATE): everything ipaddr.js does not classify as plain 'unicast' (loopback,
 * private, link-local, CGNAT, multicast, broadcast, reserved, documentation, benchmarking,
 * Teredo, …), after unwrapping the IPv6 forms that carry an IPv4 address. A classification by a
 * maintained table instead of our own list: a hand list missed NAT64 and 6to4 forms.
 */
export function isBlockedAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return true;
  }
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    const inner = embeddedIPv4(v6);
    if (inner) return inner.range() !== 'unicast';
    if (v6.match(IPV4_COMPATIBLE)) return true;
  }
  return parsed.range() !== 'unicast';
}

/** Parses a webhook URL: http(s) only, no credentials, bounded length. Throws AppError BAD_INPUT. */
export function parseWebhookUrl(raw: string, what = 'webhook url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('BAD_INPUT', `${what} is not a valid URL`);
  }
  if (raw.length > DELIVERY_URL_MAX_LENGTH) throw new AppError('BAD_INPUT', `${what} is too long`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AppError('BAD_INPUT', `${what} must be http or https`);
  if (url.username || url.password) throw new AppError('BAD_INPUT', `${what} must not carry credentials`);
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
export async function assertWebhookTarget(
  url: URL,
  allowPrivate: boolean,
  lookupAll: LookupAll = systemLookupAll,
  what = 'webhook',
): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  let addresses: { address: string }[];
  try {
    addresses = isIP(host) ? [{ address: host }] : await lookupAll(host);
  } catch {
    throw new AppError('BAD_INPUT', `${what} host does not resolve`);
  }
  if (addresses.length === 0 || addresses.some((a) => isBlockedAddress(a.address))) {
    throw new AppError(
      'BAD_INPUT',
      `${what} host resolves to an address that is not public (loopback, private, link-local, reserved or a form wrapping one)`,
    );
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

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
