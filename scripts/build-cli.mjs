/**
 * Bundles the CLI (dist/cli.js and everything it imports from dist/, commander and xstate) into one CommonJS file,
 * dist/runts.cjs, which bin/runts loads. Why: a cold `runts state` spent most of its time resolving and compiling
 * ~150 separate ES modules; one file is one read and one compile, and as CommonJS it can be compiled through
 * vm.Script with V8 code caches (bin/runts.cjs writes dist/runts.cjs.<command>.cache on each command's first use;
 * Node 20 has no module.enableCompileCache).
 *
 * lmdb's JavaScript (and msgpackr, ordered-binary, weak-lru-cache) is bundled too: loaded from node_modules it cost
 * ~20 ms of every command (about 40 small CommonJS files, a libc probe that loads child_process, and a second native
 * addon, msgpackr-extract, that only speeds up decoding long strings). In the bundle its native addon is loaded
 * straight from its prebuilt package (scripts/lmdb-native-loader.cjs) and msgpackr is its plain build: the same
 * bytes, decoded in JavaScript, without stream classes.
 *
 * Kept external (loaded from node_modules at run time, and only when needed): pino, piscina and comlink (they start
 * worker threads from their own files), and the .node addons.
 *
 * Every dist module's `import.meta.url` is rewritten to the URL of that module's own file in dist/, so paths
 * computed from it (build/Release/runts_native.node, the gofer binary, dist/workers/*.js for worker threads) stay
 * exactly what they are in the unbundled build.
 *
 * Run after tsc: `node scripts/build-cli.mjs` (part of `npm run build:ts`).
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const DIST = path.join(REPO, 'dist');
const OUT = path.join(DIST, 'runts.cjs');

// lmdb asks node-gyp-build-optional-packages for its addon; in the bundle that search would start from dist/ (the
// bundle's own directory), so it is replaced by a loader that knows where lmdb keeps its prebuilt addons.
const lmdbNative = {
  name: 'runts-lmdb-native',
  setup(b) {
    // Its CommonJS build: the ES one finds its directory through import.meta.url, which a CommonJS bundle lacks.
    b.onResolve({ filter: /^lmdb$/ }, () => ({ path: path.join(REPO, 'node_modules', 'lmdb', 'dist', 'index.cjs') }));
    b.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, () => ({
      path: path.join(REPO, 'scripts', 'lmdb-native-loader.cjs'),
    }));
    // msgpackr's plain build: the same encoder and decoder (byte for byte) without its Node stream classes, which
    // load the stream module at start-up, and without msgpackr-extract (only lmdb's Encoder is used).
    b.onResolve({ filter: /^msgpackr$/ }, () => ({ path: path.join(REPO, 'node_modules', 'msgpackr', 'dist', 'index.js') }));
  },
};

// commander loads child_process at start-up for executable subcommands, which runts does not use; child_process
// pulls in net, dgram and more, a cost every command would pay. Its copy is a proxy that loads it on first use.
const lazyChildProcessForCommander = {
  name: 'runts-lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'runts-lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'runts-lazy' }, () => ({
      contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });',
      loader: 'js',
    }));
  },
};

const metaUrl = {
  name: 'runts-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const src = await fs.promises.readFile(args.path, 'utf8');
      const rel = path.relative(DIST, args.path).split(path.sep).join('/');
      return { contents: src.replaceAll('import.meta.url', `__runtsMetaUrl(${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [path.join(DIST, 'cli.js')],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['pino', 'piscina', 'comlink', '*.node'],
  banner: {
    js:
      '"use strict";\n' +
      'const __runtsMetaUrl = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;',
  },
  plugins: [lmdbNative, lazyChildProcessForCommander, metaUrl],
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
});
// vm.Script (how bin/runts compiles the bundle) has no dynamic-import callback here, so an `import()` left in the
// bundle would fail at run time: builtins become require(); anything else is a build error.
let code = fs.readFileSync(OUT, 'utf8').replace(/\bimport\(("node:[a-z_/]+")\)/g, 'Promise.resolve(require($1))');
const left = code.match(/[^\w.$]import\([^)]*\)/);
if (left) throw new Error(`dist/runts.cjs still has a dynamic ${left[0].trim()}: bundle it or make it a builtin`);
fs.writeFileSync(OUT, code);
// Stale code caches would be rejected by V8 anyway, but drop them so the next runs write fresh ones.
for (const f of fs.readdirSync(DIST)) if (/^runts\.cjs\..*cache$/.test(f)) fs.rmSync(path.join(DIST, f), { force: true });
