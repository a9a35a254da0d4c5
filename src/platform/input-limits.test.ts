// The depth scanners that guard JSON bodies: exact on strings that look like nesting, and no recursion.
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, jsonTextDepth, valueDepth } from './input-limits.js';

describe('jsonTextDepth', () => {
  it('counts nesting of arrays and objects, not brackets inside strings or escaped quotes', () => {
    expect(jsonTextDepth('1')).toBe(0);
    expect(jsonTextDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonTextDepth('{"a":"[[[[{{{{"}')).toBe(1);
    expect(jsonTextDepth('["\\"[[[[", "\\\\", [[]]]')).toBe(3);
  });
  it('stops as soon as the limit is passed, and takes a megabyte of nesting without a stack overflow', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(jsonTextDepth(deep, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
    expect(jsonTextDepth(deep)).toBe(1_000_000);
  });
});

describe('valueDepth', () => {
  it('measures parsed values without recursion', () => {
    expect(valueDepth(1)).toBe(0);
    expect(valueDepth({ a: [1, { b: [] }] })).toBe(4);
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(valueDepth(deep, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
    expect(valueDepth(deep)).toBe(100_000);
  });
});
