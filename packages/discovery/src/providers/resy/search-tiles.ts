/**
 * Adaptive tiling of a market's bounding box for one search call (bucket, party size, hour).
 *
 * Resy answers at most RESY_MAX_PAGES pages of a search, so a query whose matches run past the
 * cap sees only the top of the ranking, and which venues fall inside that top shifts as
 * availability changes. A truncated box is therefore split into four quadrants, recursively,
 * until every box answers completely; the split is kept for the next polls of the same call and
 * split further when a box fills up again. Four sibling leaves that together answered less than
 * MERGE_FILL of one box's capacity merge back, so a city that empties out costs fewer requests.
 */

/** [south, west, north, east], as Resy's `geo.bounding_box`. */
export type Box = readonly [number, number, number, number];

/** Depth at most (4^6 = 4096 boxes): past it a truncated box stays truncated and is guarded. */
export const MAX_TILE_DEPTH = 6;
/** Siblings merge when their hits together stay under this share of one box's capacity. */
const MERGE_FILL = 0.25;
/** Tilings kept at most (one per search call); the oldest go first. */
export const TILINGS_MAX = 5_000;

export interface Tile {
  /** Path from the root: '' is the whole box, '0'..'3' its quadrants (SW, SE, NW, NE), and so on. */
  readonly path: string;
  readonly box: Box;
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

  constructor(root: Box, paths: readonly string[] = ['']) {
    for (const path of paths) this.leaves.set(path, tileAt(root, path));
  }

  current(): Tile[] {
    return [...this.leaves.values()];
  }

  paths(): string[] {
    return [...this.leaves.keys()];
  }

  /** A leaf answered truncated: it becomes its four quadrants (returned), unless at MAX_TILE_DEPTH. */
  split(tile: Tile): Tile[] | null {
    if (tile.path.length >= MAX_TILE_DEPTH || !this.leaves.has(tile.path)) return null;
    this.leaves.delete(tile.path);
    this.hits.delete(tile.path);
    const children = quadrants(tile);
    for (const c of children) this.leaves.set(c.path, c);
    return children;
  }

  /** Records what each leaf answered in a complete poll, then merges sparse sibling groups. */
  settle(answered: ReadonlyMap<string, number>, capacity: number): void {
    for (const [path, n] of answered) if (this.leaves.has(path)) this.hits.set(path, n);
    const parents = new Set([...this.leaves.keys()].filter((p) => p.length > 0).map((p) => p.slice(0, -1)));
    for (const parent of parents) {
      const kids = ['0', '1', '2', '3'].map((q) => parent + q);
      if (!kids.every((k) => this.leaves.has(k) && this.hits.has(k))) continue;
      const total = kids.reduce((sum, k) => sum + (this.hits.get(k) ?? 0), 0);
      if (total >= capacity * MERGE_FILL) continue;
      const box = mergedBox(kids.map((k) => this.leaves.get(k)!.box));
      for (const k of kids) {
        this.leaves.delete(k);
        this.hits.delete(k);
      }
      this.leaves.set(parent, { path: parent, box });
      this.hits.set(parent, total);
    }
  }
}

function tileAt(root: Box, path: string): Tile {
  let tile: Tile = { path: '', box: root };
  for (const q of path) tile = quadrants(tile)[Number(q)]!;
  return tile;
}

function mergedBox(boxes: readonly Box[]): Box {
  return [
    Math.min(...boxes.map((b) => b[0])),
    Math.min(...boxes.map((b) => b[1])),
    Math.max(...boxes.map((b) => b[2])),
    Math.max(...boxes.map((b) => b[3])),
  ];
}
