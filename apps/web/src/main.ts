// The dashboard: the bucket heat-map, the live feed with filters and the ranked board for anyone;
// watches and live notifications after signing in with a token. It talks to the server only
// through @dropwatch/client, as any frontend would.
import { createDropwatchClient } from '@dropwatch/client';
import { startAccount } from './account.js';
import { $, errorText } from './dom.js';
import { startFeed } from './feed.js';
import { startHeatmap } from './heatmap.js';

const HEALTH_EVERY_MS = 15_000;

const url = window.location.origin;
const anonymous = createDropwatchClient({ url });

const health = $('health');
async function checkHealth(): Promise<void> {
  try {
    const s = await anonymous.health.status.query();
    health.dataset.status = s.status;
    health.textContent = `Health: ${s.status}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`;
  } catch (err) {
    health.dataset.status = 'down';
    health.textContent = `Health: unreachable (${errorText(err)})`;
  }
}

startFeed(anonymous);
startHeatmap(anonymous);
startAccount(url);
void checkHealth();
setInterval(() => void checkHealth(), HEALTH_EVERY_MS);
