import { describe, expect, it } from 'vitest';
import { monthPartition } from './event-partitions.js';

describe('monthPartition', () => {
  it('names a UTC month and bounds it [first ms, first ms of the next month)', () => {
    expect(monthPartition(Date.UTC(2026, 11, 31, 23, 59, 59, 999))).toEqual({ name: 'events_2026_12', from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) });
  });

  it('counts months ahead across a year end, and behind', () => {
    const december = Date.UTC(2026, 11, 3);
    expect(monthPartition(december, 2).name).toBe('events_2027_02');
    expect(monthPartition(december, 2).from).toBe(Date.UTC(2027, 1, 1));
    expect(monthPartition(Date.UTC(2026, 0, 15), -1)).toEqual({ name: 'events_2025_12', from: Date.UTC(2025, 11, 1), to: Date.UTC(2026, 0, 1) });
  });

  it('a time cut to the minute stays in its month (retention moves no event across partitions)', () => {
    const at = Date.UTC(2026, 2, 1, 0, 0, 30);
    expect(monthPartition(at - (at % 60_000)).name).toBe(monthPartition(at).name);
  });
});
