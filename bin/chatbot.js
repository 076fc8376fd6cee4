#!/usr/bin/env node
// The `chatbot` command. It runs the TypeScript sources through tsx, as `npm start` does, so no build step is
// needed on a server; a compiled dist/ is used instead when present (container images).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/index.js', import.meta.url));
if (existsSync(compiled)) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
