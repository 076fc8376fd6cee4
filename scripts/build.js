// `npm run build`: compile src/ to dist/src/ (or to the folder given as the first argument) and copy what tsc
// leaves behind but the program reads at run time: the SQL migrations with their meta/ journal (next to the
// compiled db/migrate.js) and the simulator's page files. The container image runs the result with plain node.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const outDir = resolve(root, process.argv[2] ?? 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

// A clean folder, so a source file deleted since the last build leaves no stale module behind.
rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], {
  stdio: 'inherit',
  cwd: root,
});
cpSync(join(root, 'src'), join(outDir, 'src'), {
  recursive: true,
  filter: (path) => !path.endsWith('.ts'),
});
process.stdout.write(`built ${outDir}\n`);
