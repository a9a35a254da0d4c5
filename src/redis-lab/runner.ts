// Runs exercises one after another on one main connection, each in its own session with cleanup.
import { performance } from 'node:perf_hooks';
import { describeRedisUrl } from '../platform/redis.js';
import type { Redis } from '../platform/redis.js';
import { errorMessage } from '../platform/errors.js';
import { deleteByPrefix, openLabConnection, Session } from './session.js';
import type { Exercise, ExerciseResult, LabSettings } from './types.js';

export interface LabRun {
  ok: boolean;
  redis: string;
  exercises: ExerciseResult[];
}

/** Throws RedisUnavailableError (one sentence) when the server cannot be reached within the connect timeout. */
export async function runExercises(exercises: readonly Exercise[], settings: LabSettings): Promise<LabRun> {
  const main = await openLabConnection(settings, 'main');
  try {
    const results: ExerciseResult[] = [];
    for (const exercise of exercises) {
      if (settings.signal.aborted) break;
      results.push(await runExercise(exercise, settings, main));
    }
    const complete = results.length === exercises.length;
    return { ok: complete && results.every((r) => r.ok), redis: describeRedisUrl(settings.redisUrl), exercises: results };
  } finally {
    main.disconnect();
  }
}

export async function runExercise(exercise: Exercise, settings: LabSettings, main: Redis): Promise<ExerciseResult> {
  const session = new Session(settings, exercise.name, main);
  session.emit({ type: 'start', exercise });
  const started = performance.now();
  let facts: Record<string, unknown> = {};
  let error: string | undefined;
  try {
    await deleteByPrefix(main, session.keyPrefix); // leftovers of an interrupted earlier run
    facts = await exercise.run(session);
  } catch (err) {
    error = settings.signal.aborted && !settings.listen ? 'interrupted' : errorMessage(err);
  } finally {
    try {
      await session.cleanup();
    } catch (err) {
      error ??= `could not remove the exercise's keys: ${errorMessage(err)}`;
    }
  }
  const result: ExerciseResult = {
    exercise: exercise.name,
    ok: error === undefined,
    steps: session.steps,
    facts,
    ...(error !== undefined ? { error } : {}),
    durationMs: Math.round(performance.now() - started),
  };
  session.emit({ type: 'end', result });
  return result;
}
