/** Calendar arithmetic in IANA zones with Intl only (no dependency, DST-correct). */

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function localParts(instant: Date, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 0,
    month: out.month ?? 0,
    day: out.day ?? 0,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The local calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(instant: Date, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** A calendar date plus n days (pure date arithmetic: no zone, no DST). */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * The instant at which the wall clock in `timeZone` reads `date time`. A time skipped by a DST
 * change maps to the instant after the gap; a repeated time to its first occurrence.
 */
export function zonedToUtc(date: string, time: string, timeZone: string): Date {
  const [hh = '0', mm = '0', ss = '0'] = time.split(':');
  const wall = Date.parse(`${date}T${pad(Number(hh))}:${pad(Number(mm))}:${pad(Number(ss))}Z`);
  const offsetAt = (t: number) => {
    const p = localParts(new Date(t), timeZone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
  };
  // The instant sought lies within [wall - 14 h, wall + 12 h] (offsets span UTC-12..UTC+14), so
  // sampling the offset a whole day either side brackets any transition near it. Half a day was
  // not enough: at UTC+12:45 and beyond (Chatham, Apia, Tonga) both samples fell on one side of
  // the change and the answer was an hour off.
  const before = offsetAt(wall - 86_400_000);
  const after = offsetAt(wall + 86_400_000);
  const candidates = [wall - before, wall - after].sort((a, b) => a - b);
  for (const t of candidates) if (t + offsetAt(t) === wall) return new Date(t);
  // In a spring-forward gap no instant shows this wall time: take the one just after the gap.
  return new Date(wall - before);
}
