/**
 * The per-loader memo of key texts on its own: what it recalls, for which prefix and token
 * sequence, what it refuses to keep, and how it starts again when its byte budget is passed.
 */
import { describe, expect, it } from 'vitest';
import { KeyMemo } from '../src/key-memo.js';

const sortKeys = (keys: string[]): string[] => keys.sort();
const label = (key: string): string => `<${key}>`;

describe('texts by token sequence', () => {
  it('recalls a text for the same prefix and tokens only', () => {
    const memo = new KeyMemo();
    const one = memo.lengthToken(1);
    memo.remember('1|', [one, 'a'], 'T1');
    expect(memo.text('1|', [one, 'a'])).toBe('T1');
    expect(memo.text('2|', [one, 'a'])).toBeUndefined();
    expect(memo.text('1|', [one, 'b'])).toBeUndefined();
    expect(memo.text('1|', [memo.lengthToken(2), 'a'])).toBeUndefined();
    // A leaf value never passes for a marker: 1 and '1' and a length token are all different.
    memo.remember('1|', [one, 1], 'T2');
    expect(memo.text('1|', [one, '1'])).toBeUndefined();
    expect(memo.text('1|', [one, 1])).toBe('T2');
  });

  it('keeps a text of up to a quarter of the budget and refuses a longer one', () => {
    const memo = new KeyMemo(4096);
    const one = memo.lengthToken(1);
    memo.remember('p', [one, 'small'], 'x'.repeat(100));
    memo.remember('p', [one, 'big'], 'x'.repeat(1000));
    expect(memo.text('p', [one, 'small'])).toBeDefined();
    expect(memo.text('p', [one, 'big'])).toBeUndefined();
  });

  it('fills up to its budget, then forgets everything and keeps the newest', () => {
    const memo = new KeyMemo(8 * 1024);
    const one = memo.lengthToken(1);
    let most = 0;
    for (let i = 0; i < 200; i++) {
      memo.remember('p', [one, i], `text ${i}`);
      most = Math.max(most, memo.bytes);
    }
    expect(most).toBeLessThanOrEqual(8 * 1024);
    expect(memo.text('p', [one, 0])).toBeUndefined();
    expect(memo.text('p', [one, 199])).toBe('text 199');
  });

  it('forgets everything on clear()', () => {
    const memo = new KeyMemo();
    const one = memo.lengthToken(1);
    memo.remember('p', [one, 'a'], 'T');
    memo.clear();
    expect(memo.bytes).toBe(0);
    expect(memo.text('p', [one, 'a'])).toBeUndefined();
  });
});

describe('layouts', () => {
  it('sorts and labels the keys, and reuses the layout for the same key order', () => {
    const memo = new KeyMemo();
    const a = memo.layoutOf(['b', 'a'], sortKeys, label);
    expect(a.sorted).toEqual(['a', 'b']);
    expect(a.labels).toEqual(['<a>', '<b>']);
    expect(memo.layoutOf(['b', 'a'], sortKeys, label)).toBe(a);
    // Another order is another layout (another token), though it sorts the same.
    const other = memo.layoutOf(['a', 'b'], sortKeys, label);
    expect(other).not.toBe(a);
    expect(other.sorted).toEqual(a.sorted);
    // Round-robin shapes keep their layouts.
    memo.layoutOf(['x'], sortKeys, label);
    expect(memo.layoutOf(['b', 'a'], sortKeys, label)).toBe(a);
  });

  it('gives each length one token, and new tokens after clear()', () => {
    const memo = new KeyMemo();
    const two = memo.lengthToken(2);
    expect(memo.lengthToken(2)).toBe(two);
    expect(memo.lengthToken(3)).not.toBe(two);
    memo.clear();
    expect(memo.lengthToken(2)).not.toBe(two);
  });
});

describe('what the memo keeps, and what it counts', () => {
  it('keeps every sequence it was given, also ones that share their first tokens', () => {
    const memo = new KeyMemo();
    const two = memo.lengthToken(2);
    memo.remember('p', [two, 'a', 1], 'A1');
    memo.remember('p', [two, 'a', 2], 'A2');
    memo.remember('q', [two, 'a', 1], 'QA1');
    expect(memo.text('p', [two, 'a', 1])).toBe('A1');
    expect(memo.text('p', [two, 'a', 2])).toBe('A2');
    expect(memo.text('q', [two, 'a', 1])).toBe('QA1');
  });

  it('counts a text at two bytes a character or more, string tokens too, and layouts by their keys', () => {
    const memo = new KeyMemo();
    const one = memo.lengthToken(1);
    memo.remember('p', [one, 7], 'x'.repeat(1000));
    const afterText = memo.bytes;
    expect(afterText).toBeGreaterThanOrEqual(2000);
    memo.remember('p', [one, 'y'.repeat(1000)], 'z');
    expect(memo.bytes - afterText).toBeGreaterThanOrEqual(2000);
    const beforeLayout = memo.bytes;
    memo.layoutOf(
      Array.from({ length: 50 }, (_, i) => `key${i}`),
      (keys) => keys.sort(),
      (key) => key,
    );
    // Fifty keys: fifty trie nodes, each a Map of its own.
    expect(memo.bytes - beforeLayout).toBeGreaterThanOrEqual(50 * 100);
  });
});

describe('the trie, node by node', () => {
  it('keeps every child of a node as it grows from one child to a Map of them', () => {
    const memo = new KeyMemo();
    const one = memo.lengthToken(1);
    const values = [1, 'two', 3, NaN, true, null, undefined, 4n];
    for (const v of values) memo.remember('p', [one, v], `T${String(v)}`);
    for (const v of values) expect(memo.text('p', [one, v])).toBe(`T${String(v)}`);
  });

  it('matches NaN with NaN when it is the only child, as a Map would', () => {
    const memo = new KeyMemo();
    const one = memo.lengthToken(1);
    memo.remember('p', [one, NaN], 'nan');
    expect(memo.text('p', [one, NaN])).toBe('nan');
    expect(memo.text('p', [one, 0])).toBeUndefined();
    expect(memo.text('p', [one, 'NaN'])).toBeUndefined();
  });

  it('has no text for a path that only passes through a remembered one', () => {
    const memo = new KeyMemo();
    const two = memo.lengthToken(2);
    memo.remember('p', [two, 'a', 'b'], 'AB');
    expect(memo.text('p', [two, 'a'])).toBeUndefined();
    expect(memo.text('p', [two])).toBeUndefined();
  });

  it('counts at least two bytes a character and a node a token against its budget', () => {
    const memo = new KeyMemo();
    const tokens = [memo.lengthToken(100), ...Array.from({ length: 100 }, (_, i) => i)];
    memo.remember('p', tokens, 'x');
    expect(memo.bytes).toBeGreaterThanOrEqual(101 * 100);
    const strings = new KeyMemo();
    strings.remember('p', [], 'y'.repeat(1000));
    expect(strings.bytes).toBeGreaterThan(2000);
    const empty = new KeyMemo();
    empty.remember('p', [], '');
    expect(empty.bytes).toBeGreaterThan(0);
  });

  it('gives two shapes that share their first key each its own layout, the same one every time', () => {
    const memo = new KeyMemo();
    const ab = memo.layoutOf(['a', 'b'], sortKeys, label);
    const ac = memo.layoutOf(['a', 'c'], sortKeys, label);
    expect(ab).not.toBe(ac);
    for (let i = 0; i < 3; i++) {
      expect(memo.layoutOf(['a', 'b'], sortKeys, label)).toBe(ab);
      expect(memo.layoutOf(['a', 'c'], sortKeys, label)).toBe(ac);
    }
    expect(ab.labels).toEqual(['<a>', '<b>']);
    expect(memo.layoutOf(['b', 'a'], sortKeys, label).sortedAt).toEqual([1, 0]);
  });
});
