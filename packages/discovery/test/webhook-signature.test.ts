import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  generateWebhookSecret,
  retryDelayMs,
  signWebhook,
  webhookChannel,
  webhookOutcome,
  DELIVERY_MAX_ATTEMPTS,
} from '../src/index.js';

const headersOf = (secrets: string[], id: string, timestamp: number, body: string) => ({
  'webhook-id': id,
  'webhook-timestamp': String(timestamp),
  'webhook-signature': signWebhook(secrets, id, timestamp, body),
});

describe('Standard Webhooks signatures', () => {
  it('secrets are whsec_ + base64 of 24 random bytes, which the standardwebhooks library accepts', () => {
    const secrets = Array.from({ length: 200 }, generateWebhookSecret);
    expect(new Set(secrets).size).toBe(200);
    for (const s of secrets) {
      expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(24);
      expect(() => new Webhook(s)).not.toThrow();
    }
  });

  it('a receiver verifies the body with the secret; another secret, another id, a changed body or an old timestamp fail', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'drop.opened', timestamp: new Date().toISOString(), data: { n: 1 } });
    const now = Math.floor(Date.now() / 1000);
    const headers = headersOf([secret], '42', now, body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': '43' })).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('1', '2'), headers)).toThrow();
    const old = headersOf([secret], '42', now - 3_600, body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/timestamp/i);
  });

  it('during a rotation both secrets sign, space-separated, and a receiver holding either verifies', () => {
    const [next, prev] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = '{"type":"drop.opened"}';
    const headers = headersOf([next, prev], '7', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(next).verify(body, headers)).toEqual({ type: 'drop.opened' });
    expect(new Webhook(prev).verify(body, headers)).toEqual({ type: 'drop.opened' });
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });
});

describe('webhook outcomes and retries', () => {
  it('410 is gone, a refused address is permanent, other failures are retried', () => {
    expect(webhookOutcome({ ok: true, status: 204, error: null }).kind).toBe('delivered');
    expect(webhookOutcome({ ok: false, status: 410, error: 'HTTP 410' }).kind).toBe('gone');
    expect(webhookOutcome({ ok: false, status: null, error: 'refused: blocked address', refused: true }).kind).toBe(
      'permanent',
    );
    for (const status of [500, 503, 429, 404, 401])
      expect(webhookOutcome({ ok: false, status, error: `HTTP ${status}` }).kind).toBe('retryable');
    expect(webhookOutcome({ ok: false, status: null, error: 'timeout after 5000 ms' }).kind).toBe('retryable');
  });

  it('backs off exponentially and keeps trying for about a day, no longer', () => {
    const delays = Array.from({ length: DELIVERY_MAX_ATTEMPTS - 1 }, (_, i) =>
      retryDelayMs(webhookChannel.retry, i + 1),
    );
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(delays[1]).toBe(2 * delays[0]!);
    const total = delays.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(20 * 3_600_000);
    expect(total).toBeLessThanOrEqual(24 * 3_600_000);
  });
});
