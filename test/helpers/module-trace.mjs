// `node --import ./test/helpers/module-trace.mjs …`: appends every module the process loads to the file
// SELER_MODULE_TRACE names, through import (a resolve hook) and through require (the CommonJS resolver):
// the CLI tests check that light commands stay light.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const file = process.env.SELER_MODULE_TRACE;
if (file) {
  register('./module-trace-hooks.mjs', import.meta.url, { data: { file } });
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const resolved = resolveFilename.apply(this, args);
    appendFileSync(file, `${resolved}\n`);
    return resolved;
  };
}
