import { describe, expect, it } from 'vitest';
import { denseIdValue, IdCache } from '../../src/store/shared.js';

describe('denseIdValue', () => {
  it('reads canonical small decimal ids and refuses everything else', () => {
    expect(denseIdValue('0')).toBe(0);
    expect(denseIdValue('42')).toBe(42);
    expect(denseIdValue('16777215')).toBe(16_777_215);
    for (const id of ['', '01', '-1', '+1', '1.0', '1e3', 'u1', ' 1', '16777216', '123456789']) {
      expect(denseIdValue(id), id).toBe(-1);
    }
  });
});

describe('IdCache', () => {
  it('keeps numeric-looking and other ids apart and exact', () => {
    const c = new IdCache();
    c.set('7', 100);
    c.set('07', 200);
    c.set('u7', 300);
    c.set('0', 0);
    expect(c.get('7')).toBe(100);
    expect(c.get('07')).toBe(200);
    expect(c.get('u7')).toBe(300);
    expect(c.get('0')).toBe(0);
    expect(c.get('8')).toBeUndefined();
    expect(c.get('99999')).toBeUndefined();
    expect(c.size).toBe(4);
    c.delete('7');
    expect(c.get('7')).toBeUndefined();
    expect(c.get('07')).toBe(200);
    expect(c.size).toBe(3);
  });

  it('empties itself on trim once it holds more than its bound', () => {
    const c = new IdCache(3);
    for (let i = 0; i < 4; i++) c.set(String(i), i);
    c.trim();
    expect(c.size).toBe(0);
    expect(c.get('1')).toBeUndefined();
    c.set('1', 5);
    expect(c.get('1')).toBe(5);
  });
});
