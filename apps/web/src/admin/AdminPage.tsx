// Admin: what retention would delete now (and running it), table sizes, and each job's last run.
// Needs an admin token; a user token sees why not.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { RouterOutputs } from '@dropwatch/client';
import { AccountOnly } from '../account/AccountOnly';
import { bytes, dateTime, duration, errorCode, errorText } from '../format';
import { useAccountTRPC } from '../trpc';

type PruneNow = RouterOutputs['prune']['now'];

function forbiddenOr(err: unknown, what: string): string {
  return errorCode(err) === 'FORBIDDEN'
    ? 'This token is not an admin token: sign in with one to see this.'
    : `Could not load ${what}: ${errorText(err)}`;
}

function Counts({ counts, id }: { counts: Record<string, number>; id: string }) {
  return (
    <table className="data" id={id}>
      <thead>
        <tr>
          <th scope="col">Table</th>
          <th scope="col">Rows</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(counts).map(([table, n]) => (
          <tr key={table} data-table={table}>
            <th scope="row">{table}</th>
            <td>{n.toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Prune() {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const preview = useQuery({ ...trpc.prune.preview.queryOptions(), staleTime: 0 });
  const run = useMutation(trpc.prune.now.mutationOptions());
  const [result, setResult] = useState<PruneNow | null>(null);
  const [confirming, setConfirming] = useState(false);
  return (
    <section aria-labelledby="prune-title" className="wide">
      <h2 id="prune-title">Retention</h2>
      {preview.isPending && (
        <p className="muted" role="status" data-state="loading">
          Loading the prune preview…
        </p>
      )}
      {preview.isError && (
        <p role="status" data-state="error" id="prune-state">
          {forbiddenOr(preview.error, 'the prune preview')}
        </p>
      )}
      {preview.data && (
        <>
          <p>
            Rows retention would delete now (drops before {dateTime(preview.data.cutoffs.dropEvents)}; notifications
            before {dateTime(preview.data.cutoffs.notifications)}):{' '}
            {preview.data.dropsToClose > 0 && `${preview.data.dropsToClose} open drops would be closed first. `}
            {preview.data.partitionsToDrop.length > 0 &&
              `Partitions dropped: ${preview.data.partitionsToDrop.join(', ')}.`}
          </p>
          <Counts counts={preview.data.wouldDelete} id="prune-preview" />
          <div className="actions">
            <button type="button" onClick={() => void preview.refetch()} disabled={preview.isFetching}>
              Refresh the preview
            </button>
            {!confirming ? (
              <button type="button" onClick={() => setConfirming(true)} disabled={run.isPending}>
                Prune now…
              </button>
            ) : (
              <>
                <button
                  type="button"
                  className="danger"
                  disabled={run.isPending}
                  onClick={() =>
                    run.mutate(undefined, {
                      onSuccess: (r) => {
                        setResult(r);
                        setConfirming(false);
                        void queryClient.invalidateQueries({ queryKey: trpc.prune.preview.queryKey() });
                        void queryClient.invalidateQueries({ queryKey: trpc.health.pathKey() });
                      },
                      onError: () => setConfirming(false),
                    })
                  }
                >
                  {run.isPending ? 'Pruning…' : 'Yes, delete these rows'}
                </button>
                <button type="button" onClick={() => setConfirming(false)} disabled={run.isPending}>
                  Cancel
                </button>
              </>
            )}
          </div>
        </>
      )}
      {run.isError && (
        <p role="alert" data-state="error">
          Prune failed: {errorText(run.error)}
        </p>
      )}
      {result && (
        <div id="prune-result" role="status">
          {result.status === 'already_running' ? (
            <p>Retention is already running{result.heldBy ? ` (${result.heldBy})` : ''}: nothing was done.</p>
          ) : (
            <>
              <p>
                Pruned in {Math.round(result.durationMs)} ms: {result.dropsClosed} drops closed,{' '}
                {result.partitions.dropped.length} partitions dropped.
              </p>
              <Counts counts={result.deleted} id="prune-deleted" />
            </>
          )}
        </div>
      )}
    </section>
  );
}

function Tables() {
  const trpc = useAccountTRPC();
  const tables = useQuery(trpc.health.tables.queryOptions());
  const list = [...(tables.data?.tables ?? [])].sort((a, b) => b.bytes - a.bytes);
  return (
    <section aria-labelledby="tables-title">
      <h2 id="tables-title">Table sizes</h2>
      {tables.isPending && (
        <p className="muted" role="status" data-state="loading">
          Loading table sizes…
        </p>
      )}
      {tables.isError && (
        <p role="status" data-state="error" id="tables-state">
          {forbiddenOr(tables.error, 'table sizes')}
        </p>
      )}
      {tables.isSuccess && list.length === 0 && <p className="muted">No tables.</p>}
      {list.length > 0 && (
        <div className="table-scroll">
          <table className="data" id="table-sizes">
            <thead>
              <tr>
                <th scope="col">Table</th>
                <th scope="col">Rows (estimate)</th>
                <th scope="col">On disk</th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.table} data-table={t.table} data-bytes={t.bytes}>
                  <th scope="row">
                    {t.table}
                    {t.partitioned && <span className="muted"> ({t.partitions} partitions)</span>}
                  </th>
                  <td>{Math.max(0, Math.round(t.rowEstimate)).toLocaleString()}</td>
                  <td>{bytes(t.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Jobs() {
  const trpc = useAccountTRPC();
  const jobs = useQuery({ ...trpc.health.jobs.queryOptions(), refetchInterval: 30_000 });
  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Job runs</h2>
      <p className="muted">The last run of each job.</p>
      {jobs.isPending && (
        <p className="muted" role="status" data-state="loading">
          Loading job runs…
        </p>
      )}
      {jobs.isError && (
        <p role="status" data-state="error">
          Could not load job runs: {errorText(jobs.error)}
        </p>
      )}
      {jobs.isSuccess && jobs.data.jobs.length === 0 && <p className="muted">No job has run yet.</p>}
      <ul id="job-runs">
        {jobs.data?.jobs.map((j) => (
          <li key={j.job} data-job={j.job} data-status={j.status}>
            <span>
              <strong>{j.job}</strong>: {j.status}, started {dateTime(j.startedAt)}
              {j.finishedAt && `, took ${duration((j.finishedAt.getTime() - j.startedAt.getTime()) / 1000)}`}
              {j.error && <span data-state="error"> · {j.error}</span>}
            </span>
            <details>
              <summary>Stats</summary>
              <code className="stats">{JSON.stringify(j.stats)}</code>
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function AdminPage() {
  return (
    <AccountOnly title="Admin" titleId="admin-title">
      <Prune />
      <Tables />
      <Jobs />
    </AccountOnly>
  );
}
