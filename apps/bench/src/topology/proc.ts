import { readFile } from 'node:fs/promises';

/** Linux's USER_HZ: /proc times are in these ticks. */
const TICKS_PER_SECOND = 100;

async function read(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

/** The PIDs of a process and all its descendants (a PostgreSQL server's backends). */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 1_000) {
    const p = queue.shift()!;
    out.push(p);
    const children = await read(`/proc/${p}/task/${p}/children`);
    if (children) for (const c of children.trim().split(/\s+/).filter(Boolean)) queue.push(Number(c));
  }
  return out;
}

/** Resident set size in bytes, or null when the process is gone. */
export async function rssBytes(pid: number): Promise<number | null> {
  const status = await read(`/proc/${pid}/status`);
  const kb = status ? /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] : undefined;
  return kb ? Number(kb) * 1024 : null;
}

/**
 * Proportional set size of a process tree in bytes: shared pages (PostgreSQL's shared buffers)
 * are split among the processes that map them, so the sum is what the tree really holds.
 */
export async function treePssBytes(pid: number): Promise<number | null> {
  let total = 0;
  let any = false;
  for (const p of await processTree(pid)) {
    const rollup = await read(`/proc/${p}/smaps_rollup`);
    const kb = rollup ? /^Pss:\s+(\d+) kB$/m.exec(rollup)?.[1] : undefined;
    if (kb) {
      total += Number(kb) * 1024;
      any = true;
    }
  }
  return any ? total : null;
}

/** CPU seconds (user + system) used so far by a process tree (exited children not counted). */
export async function treeCpuSeconds(pid: number): Promise<number> {
  let ticks = 0;
  for (const p of await processTree(pid)) {
    const stat = await read(`/proc/${p}/stat`);
    if (!stat) continue;
    // Fields after the command (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** Busy and total CPU seconds of the whole machine (all cores) since boot. */
export async function machineCpuSeconds(): Promise<{ busy: number; total: number }> {
  const stat = (await read('/proc/stat')) ?? '';
  const cpu = stat.split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}
