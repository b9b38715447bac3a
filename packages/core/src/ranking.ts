/** Days of drop history the rarity score looks at. */
export const RARITY_WINDOW_DAYS = 14;

/** rarity = 100 / (1 + drops per day over the last RARITY_WINDOW_DAYS). 100 = never drops. */
export function rarity(dropsInWindow: number, windowDays = RARITY_WINDOW_DAYS): number {
  const perDay = Math.max(0, dropsInWindow) / windowDays;
  return Math.round((100 / (1 + perDay)) * 100) / 100;
}

export type RarityLabel = 'rare' | 'uncommon' | 'common';

/** rare: under one drop every ~2 days; common: two or more a day. */
export function rarityLabel(score: number): RarityLabel {
  if (score >= 65) return 'rare';
  if (score > 100 / 3) return 'uncommon';
  return 'common';
}

export interface RankableDrop {
  readonly rarity: number;
  readonly openedAt: Date;
  readonly venueName: string;
}

/** The board's order: rarest first, then freshest, then venue name. */
export function compareForBoard(a: RankableDrop, b: RankableDrop): number {
  return b.rarity - a.rarity || b.openedAt.getTime() - a.openedAt.getTime() || a.venueName.localeCompare(b.venueName);
}
