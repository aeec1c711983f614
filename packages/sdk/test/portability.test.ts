import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sdk = fileURLToPath(new URL('..', import.meta.url));
const src = join(sdk, 'src');
const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
const pkg = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8'));

/** Import specifiers of a module, static and dynamic; TSDoc examples (which may use Node) are left out. */
function imports(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  return [
    ...[...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
  ];
}

/** Every module the entry reaches, as paths relative to src. */
function graph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of imports(file)) {
      if (specifier.startsWith('.')) visit(normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts'))));
    }
  };
  visit(entry);
  return seen;
}

describe('portability', () => {
  it('the browser entry reaches only its own modules and no Node built-in, so it runs in browsers', () => {
    const browser = graph('index.ts');
    expect(browser.size).toBeGreaterThan(5);
    for (const file of browser) {
      expect(file, 'the browser entry reaches a Node-only module').not.toMatch(/^node[./]/);
      for (const specifier of imports(file))
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
      const text = readFileSync(join(src, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(text, file).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/);
    }
  });

  it('only the Node entry (node.ts, node/) imports gRPC or Node built-ins', () => {
    for (const file of files) {
      const external = imports(file).filter((s) => !s.startsWith('.'));
      if (file === 'node.ts' || file.startsWith('node/')) {
        for (const s of external) expect(s, `${file} imports ${s}`).toMatch(/^(node:|@grpc\/)/);
      } else {
        expect(external, `${file} is shared with browsers`).toEqual([]);
      }
    }
  });

  it('package.json gives bundlers the browser entry and Node the gRPC-capable one', () => {
    const root = pkg.exports['.'];
    expect(Object.keys(root)[0]).toBe('browser');
    expect(root.browser.default).toBe('./dist/index.js');
    expect(root.node.default).toBe('./dist/node.js');
    expect(pkg.files).toContain('proto');
  });

  it('ships the Open Inference Protocol proto unchanged from the repository', () => {
    const repo = join(sdk, '..', '..', 'proto', 'inference', 'open_inference.proto');
    const shipped = join(sdk, 'proto', 'inference', 'open_inference.proto');
    expect(readFileSync(shipped, 'utf8'), `copy ${relative(sdk, repo)} to ${relative(sdk, shipped)}`).toBe(
      readFileSync(repo, 'utf8'),
    );
  });
});
