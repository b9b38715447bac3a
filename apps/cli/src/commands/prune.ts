import type { Command } from '../command.js';
import { localTime } from '../format.js';
import { paint, type Output } from '../output.js';

function counts(out: Output, title: string, rows: Record<string, number>): void {
  out.line(paint(out, 'bold', title));
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  for (const [table, n] of Object.entries(rows)) out.line(`  ${table.padEnd(width)}  ${String(n).padStart(9)}`);
}

export const prunePreview: Command = {
  name: 'prune preview',
  summary: 'What retention would delete now, per table (admin; deletes nothing)',
  usage: '',
  options: {},
  optionHelp: [],
  positionals: { min: 0, max: 0 },
  async run({ out, client }) {
    const res = await client().prune.preview.query();
    if (out.json) return out.jsonLine(res);
    out.line(
      `cutoff for drops: ${localTime(res.cutoffs.dropEvents)}, notifications: ${localTime(res.cutoffs.notifications)}`,
    );
    counts(out, 'would delete:', res.wouldDelete);
    out.line(`drops to close: ${res.dropsToClose}`);
    out.line(`partitions to drop: ${res.partitionsToDrop.length ? res.partitionsToDrop.join(', ') : 'none'}`);
  },
};

export const pruneNow: Command = {
  name: 'prune now',
  summary: "Run retention now, under the daily job's lease (admin)",
  usage: '',
  options: {},
  optionHelp: [],
  positionals: { min: 0, max: 0 },
  details: 'When the daily job (or another replica) is pruning right now, nothing is done and the exit status is 1.',
  async run({ out, client }) {
    const res = await client().prune.now.mutate();
    if (out.json) out.jsonLine(res);
    if (res.status === 'already_running') {
      // Not a success for a script that asked for a prune: nothing was pruned.
      if (!out.json)
        out.warn(`retention is already running${res.heldBy ? ` (held by ${res.heldBy})` : ''}; nothing done`);
      process.exitCode = 1;
      return;
    }
    if (out.json) return;
    out.line(`pruned in ${Math.round(res.durationMs)} ms (job run ${res.jobRunId})`);
    counts(out, 'deleted:', res.deleted);
    out.line(`drops closed: ${res.dropsClosed}`);
    out.line(`partitions dropped: ${res.partitions.dropped.length ? res.partitions.dropped.join(', ') : 'none'}`);
  },
};
