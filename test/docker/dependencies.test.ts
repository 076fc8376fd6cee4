/**
 * Every package the code imports is declared in package.json, not merely present in node_modules because
 * another package brought it along (js-yaml came with ESLint): `npm ci` installs what the lock file says, and
 * a transitive package can vanish or change major version with any update of its parent. The image installs
 * with `--omit=dev`, so what src/ and bin/ load at run time must be a dependency, not a devDependency;
 * `import type` lines are erased by the compiler (verbatimModuleSyntax) and may use either.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const runtime = new Set(Object.keys(manifest.dependencies ?? {}));
const declared = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {})]);
const builtins = new Set(builtinModules);

const SOURCE = /\.(?:ts|js|mjs|cjs)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && SOURCE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

interface Import {
  file: string;
  pkg: string;
  typeOnly: boolean;
}

/** Static imports and re-exports (from the start of a line); dynamic imports, require and vi.mock calls. */
const PATTERNS = [
  /^[ \t]*(import\s+type\b|export\s+type\b)?(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"\s]+)['"]/gm,
  /^[ \t]*()import\s*['"]([^'"\s]+)['"]/gm,
  /()\b(?:import|require|vi\.mock)\(\s*['"]([^'"\s]+)['"]/g,
];

/** The package of each bare specifier a file imports. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const pattern of PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[2]!;
      if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      const pkg = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      if (builtins.has(pkg)) continue;
      found.push({ file, pkg, typeOnly: Boolean(match[1]) });
    }
  }
  return found;
}

/** The package itself, or its DefinitelyTyped types for a type-only import. */
const typesOf = (pkg: string) => `@types/${pkg.startsWith('@') ? pkg.slice(1).replace('/', '__') : pkg}`;

const topLevel = readdirSync('.').filter((name) => SOURCE.test(name));
const runtimeFiles = [...filesUnder('src'), ...filesUnder('bin'), ...filesUnder('scripts')];
const devFiles = [...filesUnder('test'), ...filesUnder('bench'), ...topLevel];

describe('package.json', () => {
  it('finds the imports it checks', () => {
    const all = [...runtimeFiles, ...devFiles].flatMap(importsOf).map((i) => i.pkg);
    expect(all).toEqual(expect.arrayContaining(['fastify', 'vitest', 'js-yaml', '@anthropic-ai/sdk']));
  });

  it('declares every package the tests, benchmarks and configuration files import', () => {
    const missing = devFiles
      .flatMap(importsOf)
      .filter((i) => !declared.has(i.pkg) && !(i.typeOnly && declared.has(typesOf(i.pkg))))
      .map((i) => `${i.pkg} (${i.file})`);
    expect(missing).toEqual([]);
  });

  it('declares what the program loads at run time as a dependency, not a devDependency', () => {
    const missing = runtimeFiles
      .flatMap(importsOf)
      .filter((i) =>
        i.typeOnly ? !declared.has(i.pkg) && !declared.has(typesOf(i.pkg)) : !runtime.has(i.pkg),
      )
      .map((i) => `${i.pkg} (${i.file})`);
    expect(missing).toEqual([]);
  });
});
