import { describe, expect, it } from 'vitest';
import { gpcAnonymises } from './gpc.js';

describe('gpcAnonymises', () => {
  it('Sec-GPC: 1 makes the event anonymous while the project honours GPC', () => {
    expect(gpcAnonymises('1', { honorGpc: true })).toBe(true);
    expect(gpcAnonymises(['1'], { honorGpc: true })).toBe(true);
  });
  it('no header, another value, or honorGpc off: consent decides as usual', () => {
    expect(gpcAnonymises(undefined, { honorGpc: true })).toBe(false);
    expect(gpcAnonymises('0', { honorGpc: true })).toBe(false);
    expect(gpcAnonymises('true', { honorGpc: true })).toBe(false);
    expect(gpcAnonymises('1', { honorGpc: false })).toBe(false);
  });
});
