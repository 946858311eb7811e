// The shape of src/: no module imports itself back through others (static, dynamic or type-only imports alike), and
// each operation is its own file that Runtime only calls into.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Each file's relative imports, resolved to the .ts files of src/ they name. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:\bfrom\s+|\bimport\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'));
    graph.set(file, [...new Set(targets.filter((t) => known.has(t)))]);
  }
  return graph;
}

/** The strongly connected components with more than one file (Tarjan): each is an import circle. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(relative(SRC, w));
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the module graph of src/', () => {
  const graph = importGraph(tsFiles(SRC));

  it('has no import circle', () => {
    assert.deepEqual(circles(graph), []);
  });

  it('finds a circle when there is one (the check itself works)', () => {
    const a = join(SRC, 'a.ts');
    const b = join(SRC, 'b.ts');
    assert.deepEqual(circles(new Map([[a, [b]], [b, [a]]])), [['a.ts', 'b.ts']]);
  });

  it('keeps the resident host, the visualizer and the CLI forwarding off the Runtime class', () => {
    const runtime = join(SRC, 'runtime.ts');
    for (const dir of ['supervisor', 'ui', 'operations']) {
      for (const file of tsFiles(join(SRC, dir))) {
        const direct = graph.get(file) ?? [];
        // The CLI's forwarding stand-in opens a local Runtime when nobody answers: that is its job.
        if (relative(SRC, file) === 'supervisor/client.ts') continue;
        assert.ok(!direct.includes(runtime), `${relative(SRC, file)} imports runtime.ts: depend on RuntimeApi (src/operations/types.ts)`);
      }
    }
  });
});
