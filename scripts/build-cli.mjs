/**
 * Bundles the CLI (dist/cli.js and everything it imports from dist/, commander and xstate) into one CommonJS file,
 * dist/runts.cjs, which bin/runts loads. Why: a cold `runts state` spent most of its time resolving and compiling
 * ~150 separate ES modules; one file is one read and one compile, and as CommonJS it can be compiled through
 * vm.Script with a V8 code cache (bin/runts writes dist/runts.cjs.cache on first use; Node 20 has no
 * module.enableCompileCache).
 *
 * Kept external (loaded from node_modules at run time, and only when needed): lmdb (native), pino, piscina and
 * comlink (they start worker threads from their own files), and the .node addon.
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
  external: ['lmdb', 'pino', 'piscina', 'comlink', '*.node'],
  banner: {
    js:
      '"use strict";\n' +
      'const __runtsMetaUrl = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;',
  },
  plugins: [metaUrl],
  logLevel: 'warning',
  legalComments: 'none',
});
// vm.Script (how bin/runts compiles the bundle) has no dynamic-import callback here, so an `import()` left in the
// bundle would fail at run time: builtins become require(); anything else is a build error.
let code = fs.readFileSync(OUT, 'utf8').replace(/\bimport\(("node:[a-z_/]+")\)/g, 'Promise.resolve(require($1))');
const left = code.match(/[^\w.$]import\([^)]*\)/);
if (left) throw new Error(`dist/runts.cjs still has a dynamic ${left[0].trim()}: bundle it or make it a builtin`);
fs.writeFileSync(OUT, code);
// A stale code cache would be rejected by V8 anyway, but drop it so the next run writes a fresh one.
fs.rmSync(`${OUT}.cache`, { force: true });
