/**
 * Adaptive tiling of a market's bounding box for one search call (bucket, party size, hour).
 *
 * Resy answers at most RESY_MAX_PAGES pages of a search, so a query whose matches run past the
 * cap sees only the top of the ranking, and which venues fall inside that top shifts as
 * availability changes. A truncated box is therefore split, recursively, until every box answers
 * completely; the split is kept for the next polls of the same call and split further when a box
 * fills up again. Sibling leaves that together answered less than MERGE_FILL of one box's
 * capacity merge back, so a city that empties out costs fewer requests.
 *
 * Every box costs at least one request a poll, however few venues it holds, so the fewer boxes
 * the better. Cut at the midpoints, a city whose venues cluster leaves many nearly empty
 * quadrants around each dense one. So when the split knows where the venues of the truncated
 * answer are and about how many the box holds, it cuts the box across its longer side into as
 * many strips as that count needs at SPLIT_FILL of capacity, at the quantiles of the venues seen:
 * strips of about equal counts. Without positions it falls back to quadrants.
 */

/** [south, west, north, east], as Resy's `geo.bounding_box`. */
export type Box = readonly [number, number, number, number];

/** Depth at most (4^6 = 4096 boxes): past it a truncated box stays truncated and is guarded. */
export const MAX_TILE_DEPTH = 6;
/** Siblings merge when their hits together stay under this share of one box's capacity. */
const MERGE_FILL = 0.25;
/** A split into strips aims each strip at this share of a box's capacity (room to grow). */
export const SPLIT_FILL = 0.8;
/** Strips one split makes at most. */
export const STRIPS_MAX = 8;
/** Positions a split into strips needs at least (fewer: quadrants). */
export const STRIP_MIN_POINTS = 20;
/** Tilings kept at most (one per search call); the oldest go first. */
export const TILINGS_MAX = 5_000;

export interface Tile {
  /**
   * Path from the root: '' is the whole box, '0'..'3' its quadrants (SW, SE, NW, NE), 'a', 'b', …
   * its strips, and so on; its length is the depth.
   */
  readonly path: string;
  readonly box: Box;
}

export interface Point {
  readonly lat: number;
  readonly lng: number;
}

/** What a split knows of the truncated box: where the venues it saw are, and about how many it holds. */
export interface SplitHint {
  readonly points: readonly Point[];
  readonly expected: number;
  readonly capacity: number;
}

/** A tiling's leaves and its sibling groups (to merge back), to start another call's tiling from. */
export interface TilingSeed {
  readonly leaves: readonly Tile[];
  readonly groups: readonly (readonly [string, Group])[];
}

interface Group {
  readonly box: Box;
  readonly kids: readonly string[];
}

export function quadrants(tile: Tile): Tile[] {
  const [s, w, n, e] = tile.box;
  const midLat = (s + n) / 2;
  const midLng = (w + e) / 2;
  return [
    { path: `${tile.path}0`, box: [s, w, midLat, midLng] },
    { path: `${tile.path}1`, box: [s, midLng, midLat, e] },
    { path: `${tile.path}2`, box: [midLat, w, n, midLng] },
    { path: `${tile.path}3`, box: [midLat, midLng, n, e] },
  ];
}

/** The leaves of one call's tiling, by path; learned from the answers. */
export class Tiling {
  private readonly leaves = new Map<string, Tile>();
  /** Hits each leaf answered last time (for merging). */
  private readonly hits = new Map<string, number>();
  /** Per split box: its box and its children's paths. */
  private readonly groups = new Map<string, Group>();

  /** From the root, from leaf paths of quadrants ('0'..'3' per level), or from another tiling's seed. */
  constructor(root: Box, from: readonly string[] | TilingSeed = ['']) {
    if (Array.isArray(from)) {
      for (const path of from as readonly string[]) {
        this.leaves.set(path, tileAt(root, path));
        for (let depth = 0; depth < path.length; depth++) {
          const parent = path.slice(0, depth);
          const tile = tileAt(root, parent);
          this.groups.set(parent, { box: tile.box, kids: quadrants(tile).map((q) => q.path) });
        }
      }
    } else {
      const seed = from as TilingSeed;
      for (const leaf of seed.leaves) this.leaves.set(leaf.path, leaf);
      for (const [path, group] of seed.groups) this.groups.set(path, group);
    }
  }

  current(): Tile[] {
    return [...this.leaves.values()];
  }

  paths(): string[] {
    return [...this.leaves.keys()];
  }

  seed(): TilingSeed {
    return { leaves: this.current(), groups: [...this.groups] };
  }

  /**
   * A leaf answered truncated: it becomes its strips (with a hint) or quadrants, returned, unless
   * at MAX_TILE_DEPTH.
   */
  split(tile: Tile, hint?: SplitHint): Tile[] | null {
    if (tile.path.length >= MAX_TILE_DEPTH || !this.leaves.has(tile.path)) return null;
    this.leaves.delete(tile.path);
    this.hits.delete(tile.path);
    const children = (hint && strips(tile, hint)) ?? quadrants(tile);
    for (const c of children) this.leaves.set(c.path, c);
    this.groups.set(tile.path, { box: tile.box, kids: children.map((c) => c.path) });
    return children;
  }

  /** Records what each leaf answered in a complete poll, then merges sparse sibling groups. */
  settle(answered: ReadonlyMap<string, number>, capacity: number): void {
    for (const [path, n] of answered) if (this.leaves.has(path)) this.hits.set(path, n);
    for (const [parent, group] of [...this.groups]) {
      const { kids } = group;
      if (!kids.every((k) => this.leaves.has(k) && this.hits.has(k))) continue;
      const total = kids.reduce((sum, k) => sum + (this.hits.get(k) ?? 0), 0);
      if (total >= capacity * MERGE_FILL) continue;
      for (const k of kids) {
        this.leaves.delete(k);
        this.hits.delete(k);
      }
      this.groups.delete(parent);
      this.leaves.set(parent, { path: parent, box: group.box });
      this.hits.set(parent, total);
    }
  }
}

/**
 * The box cut across its longer side (east–west distances shrunk by the latitude) into strips
 * of about equal counts of the given points; null when there are too few points or one strip would do.
 */
export function strips(tile: Tile, hint: SplitHint): Tile[] | null {
  const [s, w, n, e] = tile.box;
  const inside = hint.points.filter((p) => p.lat >= s && p.lat <= n && p.lng >= w && p.lng <= e);
  const k = Math.min(STRIPS_MAX, Math.ceil(hint.expected / (hint.capacity * SPLIT_FILL)));
  if (inside.length < STRIP_MIN_POINTS || k < 2) return null;
  const alongLat = n - s >= (e - w) * Math.cos((((s + n) / 2) * Math.PI) / 180);
  const values = inside.map((p) => (alongLat ? p.lat : p.lng)).sort((a, b) => a - b);
  const [lo, hi] = alongLat ? [s, n] : [w, e];
  const cuts: number[] = [];
  for (let i = 1; i < k; i++) {
    const at = (i * values.length) / k;
    const below = values[Math.max(0, Math.ceil(at) - 1)]!;
    const above = values[Math.min(values.length - 1, Math.ceil(at))]!;
    // Midway between neighbouring venues, so none sits on a cut.
    const cut = (below + above) / 2;
    if (cut > (cuts.at(-1) ?? lo) && cut < hi) cuts.push(cut);
  }
  if (cuts.length === 0) return null;
  const edges = [lo, ...cuts, hi];
  return edges.slice(1).map((to, i) => {
    const from = edges[i]!;
    const box: Box = alongLat ? [from, w, to, e] : [s, from, n, to];
    return { path: tile.path + String.fromCharCode(97 + i), box };
  });
}

function tileAt(root: Box, path: string): Tile {
  let tile: Tile = { path: '', box: root };
  for (const q of path) tile = quadrants(tile)[Number(q)]!;
  return tile;
}
