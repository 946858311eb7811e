#!/usr/bin/env node
// runts entry point: callable from any directory and by absolute path (containerd runs it as its runc binary).
// bin/runts is a symlink to this file. It is CommonJS (.cjs) because Node starts a CommonJS entry a few
// milliseconds sooner than an ES module one, and every runts command pays for its start-up.
//
// Loads the single-file CLI bundle dist/runts.cjs (scripts/build-cli.mjs) when it exists — one read and one
// compile instead of ~150 ES modules — compiled through vm.Script with a V8 code cache kept beside it, one per
// command (dist/runts.cjs.<command>.cache, written on the command's first use, ignored if V8 rejects it): V8
// caches only the functions a run compiled, so a cache written by `state` would leave most of `run` uncompiled.
// Falls back to the unbundled dist/cli.js when the bundle is missing or stale, or with RUNTS_NO_BUNDLE=1.
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

const dist = join(__dirname, '..', 'dist');
const bundle = join(dist, 'runts.cjs');

// tsc rewrites every file of dist/ on each build: a bundle older than dist/runtime.js was not rebuilt after the
// last tsc (e.g. `tsc` run alone), so use the fresh modules rather than stale code.
const mtime = (f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -1;
if (process.env.RUNTS_NO_BUNDLE === '1' || mtime(bundle) < mtime(join(dist, 'runtime.js'))) {
  import('../dist/cli.js');
} else {
  const cacheFile = `${bundle}.${commandOf(process.argv)}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  const source = readFileSync(bundle, 'utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    // At exit, so the cache holds the functions this command compiled lazily too (registered first: `--version`
    // exits while the bundle runs). Written atomically; any failure (a read-only install) only costs the speed-up.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // best effort
      }
    });
  }
  const module = { exports: {}, filename: bundle };
  const fn = script.runInThisContext();
  fn.call(module.exports, module.exports, createRequire(bundle), module, bundle, dist);
}

/** The command word of the command line (its first word that is not a global option or an option's value). */
function commandOf(argv) {
  // runts' global options that take a value (src/cli.ts).
  const takesValue = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);
  for (let i = 2; i < argv.length; i++) {
    if (takesValue.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return /^[a-z][a-z-]{0,15}$/.test(argv[i]) ? argv[i] : 'other';
  }
  return 'none';
}
