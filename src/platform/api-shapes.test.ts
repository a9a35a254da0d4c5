import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldProblems } from './api-shapes.js';

describe('fieldProblems', () => {
  const problems = (schema: z.ZodType, input: unknown) => {
    const r = schema.safeParse(input);
    return r.success ? {} : fieldProblems(r.error.issues);
  };

  it('names nested fields by path, the value as a whole `_`, and keeps the first problem of each', () => {
    const schema = z.object({ a: z.object({ b: z.number().int().min(5) }), c: z.string() });
    expect(problems(schema, { a: { b: 1.5 }, c: 1 })).toEqual({ 'a.b': expect.any(String), c: expect.any(String) });
    expect(problems(schema, [])).toEqual({ _: expect.any(String) });
  });

  it('names a field called like an Object method or __proto__ as its own field', () => {
    const schema = z.object({ constructor: z.number(), name: z.string().optional() }).strict();
    const found = problems(schema, JSON.parse('{"constructor":"x","toString":1,"__proto__":2,"hasOwnProperty":3}'));
    expect(Object.keys(found).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(found.toString).toBe('unknown field "toString"');
    expect(JSON.parse(JSON.stringify(found))).toHaveProperty('__proto__', 'unknown field "__proto__"');
  });
});
