// The Redis lab (MISSION rows R1–R15): `seler lab <exercise>`, one module per exercise.
export { runLabCli, type LabDefaults, type LabIo } from './cli.js';
export { EXERCISES, findExercise } from './exercises/index.js';
export { runExercises, type LabRun } from './runner.js';
export { labSettings } from './settings.js';
export type { Exercise, ExerciseResult, LabSettings, Step } from './types.js';
