import { main } from './cli-main.js';

// The Node entry of the command line (bin/runts.cjs loads it; the native front execs that when no warm host serves).
void main(process.argv);
