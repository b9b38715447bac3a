import { useQuery } from '@tanstack/react-query';
import { errorText } from './format';
import { publicQueryClient } from './query-client';
import { usePublicTRPC } from './trpc';

const HEALTH_EVERY_MS = 15_000;

/** ok / degraded / down with the server's reasons, re-read every 15 s. */
export function Health() {
  const trpc = usePublicTRPC();
  const health = useQuery(
    { ...trpc.health.status.queryOptions(), refetchInterval: HEALTH_EVERY_MS, retry: false },
    publicQueryClient,
  );
  let status = 'unknown';
  let text = 'Health: checking…';
  if (health.isError) {
    status = 'down';
    text = `Health: unreachable (${errorText(health.error)})`;
  } else if (health.data) {
    const s = health.data;
    status = s.status;
    text = `Health: ${s.status}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`;
  }
  return (
    <p id="health" role="status" aria-live="polite" data-status={status}>
      {text}
    </p>
  );
}
