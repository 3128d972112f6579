/**
 * The per-loader memo of key texts on its own: what it recalls, for which prefix, what it
 * refuses to keep, and how it starts again when its byte budget is passed. Costs follow the
 * memo's estimate: 2 bytes a character plus 48 per string.
 */
import { describe, expect, it } from 'vitest';
import { KeyMemo } from '../src/key-memo.js';

const text = (length: number): string => 'x'.repeat(length);
const sortKeys = (keys: string[]): string[] => keys.sort();
const label = (key: string): string => `<${key}>`;

describe('single values', () => {
  it('recalls the text made for a string or number, per prefix', () => {
    const memo = new KeyMemo();
    memo.rememberSingle('1|', 'a', 'T1');
    memo.rememberSingle('1|', 7, 'T2');
    memo.rememberSingle('2|', 'a', 'T3');
    expect(memo.single('1|', 'a')).toBe('T1');
    expect(memo.single('1|', 7)).toBe('T2');
    expect(memo.single('2|', 'a')).toBe('T3');
    expect(memo.single('2|', 7)).toBeUndefined();
    expect(memo.single('3|', 'a')).toBeUndefined();
  });

  it('keeps a text of up to a quarter of the budget and refuses a longer one', () => {
    // Budget 400: a quarter is 100 bytes, a text of 26 characters (26 × 2 + 48).
    const memo = new KeyMemo(400);
    memo.rememberSingle('p', 1, text(26));
    memo.rememberSingle('p', 2, text(27));
    expect(memo.single('p', 1)).toBe(text(26));
    expect(memo.single('p', 2)).toBeUndefined();
  });

  it('counts a string value as well as its text; a number costs nothing more', () => {
    const memo = new KeyMemo(400);
    // 20 characters: 88 bytes; the value 'abc' adds 54.
    memo.rememberSingle('p', 'abc', text(20));
    memo.rememberSingle('p', 123, text(20));
    expect(memo.single('p', 'abc')).toBeUndefined();
    expect(memo.single('p', 123)).toBe(text(20));
  });

  it('fills up to the budget, then forgets everything and keeps the newest', () => {
    const memo = new KeyMemo(400);
    for (const n of [1, 2, 3, 4]) memo.rememberSingle('p', n, text(26));
    // 4 × 100 = 400 bytes: exactly the budget, all kept.
    for (const n of [1, 2, 3, 4]) expect(memo.single('p', n)).toBe(text(26));
    memo.rememberSingle('p', 5, text(26));
    for (const n of [1, 2, 3, 4]) expect(memo.single('p', n)).toBeUndefined();
    expect(memo.single('p', 5)).toBe(text(26));
    // Starting again counted the newest text: three more fit before the next reset.
    for (const n of [6, 7, 8]) memo.rememberSingle('p', n, text(26));
    expect(memo.single('p', 5)).toBe(text(26));
    memo.rememberSingle('p', 9, text(26));
    expect(memo.single('p', 5)).toBeUndefined();
    expect(memo.single('p', 9)).toBe(text(26));
  });

  it('forgets everything on clear()', () => {
    const memo = new KeyMemo();
    memo.rememberSingle('p', 1, 'T');
    memo.clear();
    expect(memo.single('p', 1)).toBeUndefined();
  });
});

describe('flat objects', () => {
  it('recalls a text only for the same layout and all the same values', () => {
    const memo = new KeyMemo();
    const layout = memo.layoutOf(['b', 'a'], sortKeys, label);
    memo.rememberFlat('p', layout, [1, 'x'], 'T');
    expect(memo.flat('p', layout, [1, 'x'])).toBe('T');
    expect(memo.flat('p', layout, [1])).toBeUndefined();
    expect(memo.flat('p', layout, [1, 'x', 2])).toBeUndefined();
    expect(memo.flat('p', layout, [1, 'y'])).toBeUndefined();
    expect(memo.flat('q', layout, [1, 'x'])).toBeUndefined();
  });

  it('counts each value kept besides twice the text, against a quarter of the budget', () => {
    const memo = new KeyMemo(400);
    const layout = memo.layoutOf(['a'], sortKeys, label);
    // A 1-character text costs 2 × 50 = 100 bytes: it fits with no values, not with one more.
    memo.rememberFlat('p', layout, [], 'T');
    memo.rememberFlat('q', layout, [1], 'U');
    expect(memo.flat('p', layout, [])).toBe('T');
    expect(memo.flat('q', layout, [1])).toBeUndefined();
  });
});

describe('flat objects sharing values', () => {
  it('keeps texts of objects that share their first values side by side', () => {
    const memo = new KeyMemo();
    const layout = memo.layoutOf(['a', 'b'], sortKeys, label);
    memo.rememberFlat('p', layout, [1, 2], 'T12');
    memo.rememberFlat('p', layout, [1, 3], 'T13');
    expect(memo.flat('p', layout, [1, 2])).toBe('T12');
    expect(memo.flat('p', layout, [1, 3])).toBe('T13');
  });

  it('counts 48 bytes for each value kept', () => {
    // Budget 800, a quarter is 200: a 1-character text (100) with two values (96) fits, with three (144) not.
    const memo = new KeyMemo(800);
    const layout = memo.layoutOf(['a', 'b', 'c'], sortKeys, label);
    memo.rememberFlat('p', layout, [1, 2], 'T');
    memo.rememberFlat('q', layout, [1, 2, 3], 'U');
    expect(memo.flat('p', layout, [1, 2])).toBe('T');
    expect(memo.flat('q', layout, [1, 2, 3])).toBeUndefined();
  });
});

describe('layouts', () => {
  it('sorts and labels the keys, and reuses the layout for the same key order', () => {
    const memo = new KeyMemo();
    const first = memo.layoutOf(['b', 'a'], sortKeys, label);
    expect(first.sorted).toEqual(['a', 'b']);
    expect(first.labels).toEqual(['<a>', '<b>']);
    expect(first.order).toEqual(['b', 'a']);
    expect(memo.layoutOf(['b', 'a'], sortKeys, label)).toBe(first);
  });

  it('makes a new layout for other keys, another order, or fewer keys', () => {
    const memo = new KeyMemo();
    memo.layoutOf(['b', 'a'], sortKeys, label);
    expect(memo.layoutOf(['a', 'b'], sortKeys, label).order).toEqual(['a', 'b']);
    expect(memo.layoutOf(['a'], sortKeys, label).sorted).toEqual(['a']);
    expect(memo.layoutOf(['c'], sortKeys, label).sorted).toEqual(['c']);
    expect(memo.layoutOf(['c', 'd'], sortKeys, label).labels).toEqual(['<c>', '<d>']);
  });

  it('forgets the last layout on clear()', () => {
    const memo = new KeyMemo();
    const first = memo.layoutOf(['a'], sortKeys, label);
    memo.clear();
    expect(memo.layoutOf(['a'], sortKeys, label)).not.toBe(first);
  });
});
