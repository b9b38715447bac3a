import { describe, expect, it } from 'vitest';
import {
  assertWebhookTarget,
  generateWebhookSecret,
  isBlockedAddress,
  parseWebhookUrl,
  postWebhook,
} from '../src/index.js';
import { startReceiver } from './webhook-receiver.js';

const signing = { id: '1', secrets: [generateWebhookSecret()] };

describe('webhook targets (SSRF guard)', () => {
  it('blocks loopback, private, link-local, unspecified and their IPv6 / mapped forms', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '100.64.0.1',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isBlockedAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111'])
      expect(isBlockedAddress(a), a).toBe(false);
  });

  it('blocks IPv6 forms that wrap a blocked IPv4 address (compatible, mapped, NAT64, 6to4) and every non-unicast range', () => {
    for (const a of [
      '::7f00:1',
      '::127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::7f00:1',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::a00:1',
      '2002:7f00:1::',
      '2002:a9fe:a9fe::1',
      '2001:db8::1',
      '2001::1',
      'fec0::1',
      '192.0.2.1',
      '198.18.0.1',
      '255.255.255.255',
      '240.0.0.1',
      'not-an-ip',
    ]) {
      expect(isBlockedAddress(a), a).toBe(true);
    }
    // A wrapper around a public address is as public as the address it carries.
    for (const a of ['64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8'])
      expect(isBlockedAddress(a), a).toBe(false);
  });

  it('refuses URL literals in those forms when the webhook is set and when it is delivered', async () => {
    for (const raw of [
      'http://[::127.0.0.1]:9/x',
      'http://[64:ff9b::7f00:1]:9/x',
      'http://[64:ff9b::a9fe:a9fe]/x',
      'http://[2002:7f00:1::]:9/x',
      'http://[::ffff:127.0.0.1]:9/x',
      'http://0x7f.1:9/x',
      'http://2130706433:9/x',
    ]) {
      await expect(assertWebhookTarget(parseWebhookUrl(raw), false), raw).rejects.toThrow(/not public/);
      const posted = await postWebhook({ url: raw, ...signing, body: '{}', timeoutMs: 2_000, allowPrivate: false });
      expect(posted.error, raw).toMatch(/refused|blocked/);
    }
  });

  it('refuses non-http(s) URLs and credentials', () => {
    expect(() => parseWebhookUrl('ftp://example.test/x')).toThrow(/http or https/);
    expect(() => parseWebhookUrl('file:///etc/passwd')).toThrow(/http or https/);
    expect(() => parseWebhookUrl('https://user:pw@example.test/x')).toThrow(/credentials/);
    expect(() => parseWebhookUrl('not a url')).toThrow(/valid URL/);
    expect(parseWebhookUrl('https://hooks.example.test/a?b=1').href).toBe('https://hooks.example.test/a?b=1');
  });

  it('refuses a host whose DNS answer is private, unless private targets are allowed', async () => {
    const resolvesTo = (address: string) => () => Promise.resolve([{ address, family: address.includes(':') ? 6 : 4 }]);
    const url = new URL('https://hooks.example.test/x');
    await expect(assertWebhookTarget(url, false, resolvesTo('10.0.0.7'))).rejects.toThrow(/private/);
    await expect(assertWebhookTarget(url, false, resolvesTo('fe80::2'))).rejects.toThrow(/private/);
    await expect(assertWebhookTarget(url, false, resolvesTo('93.184.216.34'))).resolves.toBeUndefined();
    await expect(assertWebhookTarget(new URL('http://127.0.0.1:9/x'), false)).rejects.toThrow(/loopback/);
    await expect(assertWebhookTarget(new URL('http://[::1]:9/x'), false)).rejects.toThrow(/loopback/);
    await expect(assertWebhookTarget(new URL('http://127.0.0.1:9/x'), true)).resolves.toBeUndefined();
  });

  it('checks again at delivery: a loopback receiver is refused unless allowed (by IP and by name)', async () => {
    const r = await startReceiver();
    try {
      const body = '{"a":1}';
      const byIp = await postWebhook({ url: r.url, ...signing, body, timeoutMs: 2_000, allowPrivate: false });
      expect(byIp).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) as unknown });
      const byName = await postWebhook({
        url: r.url.replace('127.0.0.1', 'localhost'),
        ...signing,
        body,
        timeoutMs: 2_000,
        allowPrivate: false,
      });
      expect(byName.ok).toBe(false);
      expect(byName.error).toMatch(/blocked/);
      expect(r.received).toHaveLength(0);
      const allowed = await postWebhook({ url: r.url, ...signing, body, timeoutMs: 2_000, allowPrivate: true });
      expect(allowed).toEqual({ ok: true, status: 200, error: null });
      expect(r.received).toHaveLength(1);
    } finally {
      await r.close();
    }
  });
});
