// The exercises in the lab's order.
import type { Exercise } from '../types.js';
import { acl } from './acl.js';
import { blocking } from './blocking.js';
import { counters } from './counters.js';
import { hashes } from './hashes.js';
import { keyspace } from './keyspace.js';
import { lists } from './lists.js';
import { lua } from './lua.js';
import { ping } from './ping.js';
import { pipeline } from './pipeline.js';
import { pubsub } from './pubsub.js';
import { sets } from './sets.js';
import { streams } from './streams.js';
import { strings } from './strings.js';
import { zsets } from './zsets.js';

export const EXERCISES: readonly Exercise[] = [ping, strings, counters, lists, blocking, sets, zsets, hashes, pubsub, streams, pipeline, lua, keyspace, acl];

export function findExercise(name: string): Exercise | undefined {
  return EXERCISES.find((exercise) => exercise.name === name);
}
