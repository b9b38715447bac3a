// Small DOM helpers shared by the dashboard's parts (no framework: the page is small).
import { TRPCClientError } from '@dropwatch/client';

export const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing from the page`);
  return e as T;
};

export function el(tag: string, text: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className) e.className = className;
  return e;
}

export function button(text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', text) as HTMLButtonElement;
  b.type = 'button';
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

/** Only http(s) links from the API become links; anything else stays text. */
export function safeHref(href: string | null): string | null {
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

/** "45 s", "12 min", "3 h": how long ago or how long something lasted. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/**
 * Loading, empty and error states of one list share a single status line: `loading` until the
 * first answer, then the empty text when nothing is there, or the error.
 */
export function setState(status: HTMLElement, state: 'loading' | 'empty' | 'error' | 'ready', text = ''): void {
  status.dataset.state = state;
  status.hidden = state === 'ready';
  status.textContent = text;
}
