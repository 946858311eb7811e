import { RuntsError } from '../../src/errors.js';

/**
 * The benchmark harness's error: a runtime command failed, a container did not stop in time, the machine is not
 * set up (not root, runc/crun missing), or the run was interrupted. The message names the command and the fix.
 */
export class BenchError extends RuntsError {}
