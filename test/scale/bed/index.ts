export { Bed, SUBNET, reapStaleBeds } from './bed.js';
export { Host, HostProcess, type SpawnOptions } from './host.js';
export { Agent } from './agent-client.js';
export { startPostgres, type BedPostgres } from './postgres.js';
export { startSeler, repoRoot, type Role, type SelerProcess } from './seler.js';
export { startSingleRedis, startBedSentinel, startBedCluster, inNamespace, restartRedis } from './redis.js';
export { readExecutions, tally, inFlightAt, inFlightIds, report, waitForEnds, type Execution, type Tally } from './tally.js';
export { run } from './sh.js';
export { faultUnderLoad, type FaultRun } from './scenario.js';
