// Stands in for node-gyp-build-optional-packages inside the CLI bundle (scripts/build-cli.mjs): loads lmdb's
// prebuilt addon for this platform and Node ABI directly, and falls back to the real search, started from lmdb's
// own directory, when there is no such prebuilt (e.g. lmdb built from source).
'use strict';
const path = require('node:path');

module.exports = function loadLmdbNative() {
  const pkg = `@lmdb/lmdb-${process.platform}-${process.arch}`;
  for (const file of [`node.abi${process.versions.modules}.glibc.node`, 'node.napi.glibc.node']) {
    try {
      return require(`${pkg}/${file}`);
    } catch (err) {
      if (err && err.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  // Names in variables: esbuild leaves these requires to run time (the bundle's require resolves from dist/).
  const lmdb = 'lmdb';
  const search = 'node-gyp-build-optional-packages';
  return require(search)(path.dirname(path.dirname(require.resolve(lmdb))));
};
