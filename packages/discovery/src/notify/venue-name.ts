/**
 * The normalized form watches store for a venue name and the notify job compares against:
 * accents folded (NFD, combining marks removed), lowercase, trimmed, inner whitespace collapsed.
 * "  Café  Boulud " → "cafe boulud".
 */
export function normalizeVenueName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}
