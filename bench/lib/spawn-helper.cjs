// Runs commands for bench/embedded-driver.ts, one per line of stdin (a JSON array: executable, then arguments), and
// answers each with a line of JSON: { status, ms } (ms: the command's own wall time, measured here).
//
// Why a process of its own: item 3 alternates the embedded API cycle with runc's and crun's `run`. Spawned from the
// driver, each of those forked the driver (libuv spawns with fork), which left every page of the warm process
// copy-on-write: the next API cycle then took ≈ 330 extra page faults (60 → 390 per cycle) that no embedding agent
// pays, and ≈ 0.5 ms with them. Forked from here, only this small process pays that.
'use strict';
const { spawnSync } = require('node:child_process');
const readline = require('node:readline');

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [exe, ...args] = JSON.parse(line);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, args, { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ status: r.status, ms }) + '\n');
});
