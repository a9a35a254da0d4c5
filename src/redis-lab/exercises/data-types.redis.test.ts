// ping, strings, counters, lists, sets, zsets, hashes against the real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, testRedis, testRedisUrl, uniquePrefix } from '../../../test/helpers/redis.js';
import type { Redis } from '../../platform/redis.js';
import { textPrinter } from '../render.js';
import { runExercises } from '../runner.js';
import { keysByPrefix } from '../session.js';
import { labSettings } from '../settings.js';
import { findExercise } from './index.js';

const prefix = uniquePrefix('lab-types');
let redis: Redis;

beforeAll(async () => {
  redis = await testRedis();
});
afterAll(async () => {
  await deleteKeys(redis, `${prefix}:*`);
  redis.disconnect();
});

async function run(name: string) {
  let text = '';
  const { exercises } = await runExercises([findExercise(name)!], labSettings(testRedisUrl(), { prefix, onEvent: textPrinter((t) => (text += t)) }));
  const result = exercises[0]!;
  expect(result.error).toBeUndefined();
  expect(await keysByPrefix(redis, `${prefix}:${name}:`)).toEqual([]); // the exercise removed what it created
  return { result, facts: result.facts, text };
}

describe('lab exercises on the basic types', () => {
  it('ping: PONG', async () => {
    const { facts, text } = await run('ping');
    expect(facts.pong).toBe('PONG');
    expect(facts.echo).toBe('hello lab');
    expect(text).toContain('> PING\n< PONG\n');
  });

  it('strings: raw bytes vs decoded, APPEND, GET after DEL is nil', async () => {
    const { facts, text } = await run('strings');
    expect(facts.raw).toBe(Buffer.from('hello').toString('hex'));
    expect(facts.decoded).toBe('hello');
    expect(facts.polishBytes).toBe(7);
    expect(facts.polishDecoded).toBe('Cześć');
    expect(facts.lengthAfterAppend).toBe(11);
    expect(facts.appended).toBe('hello world');
    expect(facts.deleted).toBe(1);
    expect(facts.afterDel).toBeNull();
    expect(text).toContain(`> SET ${prefix}:strings:greeting hello\n< OK\n`);
    expect(text).toContain("< b'hello'");
  });

  it('counters: 1300 + 25 - 30', async () => {
    const { facts } = await run('counters');
    expect(facts).toMatchObject({ afterIncr: 1325, afterDecr: 1295, stored: '1295' });
    expect(facts.notANumberError).toMatch(/not an integer/);
  });

  it('lists: ranges, pushes and pops at both ends', async () => {
    const { facts } = await run('lists');
    expect(facts).toMatchObject({
      length: 5,
      all: ['a', 'b', 'c', 'd', 'e'],
      middle: ['b', 'c', 'd'],
      afterLpush: 6,
      rpopped: 'e',
      lpopped: 'z',
      first: 'a',
      last: 'd',
      finalLength: 4,
      remaining: ['a', 'b', 'c', 'd'],
    });
  });

  it('sets: duplicates ignored; difference, intersection, union', async () => {
    const { facts } = await run('sets');
    expect(facts).toEqual({
      addedToFrontend: 2,
      members: ['ala', 'bartek', 'celina'],
      diff: ['ala', 'bartek'],
      inter: ['celina'],
      union: ['ala', 'bartek', 'celina', 'darek'],
    });
  });

  it('zsets: equal scores come back ordered by member', async () => {
    const { facts } = await run('zsets');
    expect(facts.order).toEqual(['adam', 'ala', 'celina', 'bartek', 'darek']);
    expect(facts.withScores).toEqual([['adam', 100], ['ala', 100], ['celina', 100], ['bartek', 250], ['darek', 300]]);
    expect(facts.top).toEqual([['darek', 300], ['bartek', 250]]);
    expect(facts.rankOfCelina).toBe(2);
  });

  it('hashes: fields and values', async () => {
    const { facts } = await run('hashes');
    expect(facts).toMatchObject({
      added: 3,
      all: ['name', 'Ala', 'email', 'ala@example.com', 'city', 'Gdańsk'],
      keys: ['name', 'email', 'city'],
      hasName: 1,
      hasPhone: 0,
      values: ['Ala', 'ala@example.com', 'Gdańsk'],
    });
  });
});
