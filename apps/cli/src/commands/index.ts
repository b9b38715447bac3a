import type { Command } from '../command.js';
import { board } from './board.js';
import { destinationsAdd, destinationsList, destinationsRm, destinationsTest } from './destinations.js';
import { health } from './health.js';
import { notificationsList, notificationsRead } from './notifications.js';
import { pruneNow, prunePreview } from './prune.js';
import { tail } from './tail.js';
import { tokenCreate, tokenRevoke } from './token.js';
import { watchAdd, watchList, watchRm } from './watch.js';

/** Every command, in the order --help lists them. */
export const COMMANDS: readonly Command[] = [
  tail,
  board,
  health,
  watchAdd,
  watchList,
  watchRm,
  destinationsList,
  destinationsAdd,
  destinationsRm,
  destinationsTest,
  notificationsList,
  notificationsRead,
  prunePreview,
  pruneNow,
  tokenCreate,
  tokenRevoke,
];

/** Words that take a subcommand (`watch add`); `notifications` alone is a command too. */
export const GROUPS: ReadonlySet<string> = new Set(
  COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!),
);
