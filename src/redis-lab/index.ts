// The Redis lab (MISSION rows R1–R15): `seler lab <exercise>`, one module per exercise.
export { runLab, runLabCli, listing, type LabDefaults, type LabIo, type LabOptions } from './cli.js';
export { defineLabCommand } from './command.js';
export { EXERCISES, findExercise } from './exercises/index.js';
export { runExercises, type LabRun } from './runner.js';
export { labSettings } from './settings.js';
export type { Exercise, ExerciseResult, LabSettings, Step } from './types.js';
