import { describe, expect, it } from 'vitest';
import { normalizeVenueName } from '../src/index.js';

describe('normalizeVenueName', () => {
  it('folds accents and case, trims and collapses spaces', () => {
    expect(normalizeVenueName('  Café   Boulud ')).toBe('cafe boulud');
    expect(normalizeVenueName('CRÈME brûlée')).toBe('creme brulee');
    expect(normalizeVenueName('Ñandú')).toBe('nandu');
    expect(normalizeVenueName('Cafe\u0301 Boulud')).toBe('cafe boulud'); // already decomposed
    expect(normalizeVenueName('L’Artusi')).toBe('l’artusi');
  });
});
