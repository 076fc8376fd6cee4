/**
 * A lint of the Dockerfile by the rules we hold it to (no hadolint on these machines): multi-stage, a small
 * final image, a non-root user, a health check on /health/, production dependencies only, no secret in the
 * image, signals delivered to node.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): { preamble: Instruction[]; stages: Instruction[][] } {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const instructions = joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const preamble: Instruction[] = [];
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([instruction]);
    else (stages.at(-1) ?? preamble).push(instruction);
  }
  return { preamble, stages };
}

const { preamble, stages } = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
const final = stages.at(-1) ?? [];
const all = [...preamble, ...stages.flat()];
const args = (stage: Instruction[], keyword: string) =>
  stage.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds in stages and ships a slim or alpine Node 20 image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const base = args(final, 'FROM')[0] ?? '';
    const image = base.startsWith('${')
      ? (args(preamble, 'ARG')[0]?.split('=')[1] ?? '')
      : base.split(' ')[0];
    expect(image).toMatch(/^node:20[\w.-]*-(slim|alpine)/);
  });

  it('runs as a non-root user', () => {
    const users = args(final, 'USER');
    expect(users.length).toBe(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('checks /health/ with a HEALTHCHECK', () => {
    const checks = args(final, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    expect(checks[0]).toContain('/health/');
  });

  it('installs production dependencies only in what it ships, and copies dist/ from the build stage', () => {
    expect(all.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(true);
    expect(args(final, 'COPY').some((a) => a.includes('--from=build') && a.includes('/app/dist'))).toBe(true);
    expect(args(final, 'RUN').some((a) => /npm (ci|install)(?!.*--omit=dev)/.test(a))).toBe(false);
  });

  it('bakes no secret into the image: no ENV or ARG that names a key, token, secret or password', () => {
    for (const instruction of all.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      expect(instruction.args).not.toMatch(/(KEY|TOKEN|SECRET|PASSWORD|AUTH)\w*\s*=/i);
    }
    expect(
      all.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD').some((i) => /\.env\b/.test(i.args)),
    ).toBe(false);
  });

  it('keeps .env, node_modules and local data out of the build context', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split(/\r?\n/);
    for (const entry of ['.env', 'node_modules', 'dist', 'data', 'logs', '.git'])
      expect(ignored).toContain(entry);
  });

  it('starts node directly (exec form), so SIGTERM reaches it, from a file the build produces', () => {
    const cmd = args(final, 'CMD');
    expect(cmd).toHaveLength(1);
    const parsed = JSON.parse(cmd[0] ?? '') as string[];
    expect(parsed[0]).toBe('node');
    expect(parsed[1]).toMatch(/^dist\/src\/main\/start\.js$/);
    expect(existsSync('src/main/start.ts')).toBe(true);
  });
});
