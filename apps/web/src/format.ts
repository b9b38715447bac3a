// Small helpers shared by the dashboard's views.
import { TRPCClientError } from '@dropwatch/client';

/** Only http(s) links from the API become links; anything else stays text. */
export function safeHref(href: string | null | undefined): string | null {
  if (!href) return null;
  try {
    const u = new URL(href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

export function errorText(err: unknown): string {
  if (err instanceof TRPCClientError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The tRPC error code of a failed call ('UNAUTHORIZED', 'FORBIDDEN', …), if it has one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
}

/** "45 s", "12 min", "3 h": how long ago or how long something lasted. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** 1536 → "1.5 KB": table sizes in the admin view. */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const dateTime = (d: Date): string => d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
