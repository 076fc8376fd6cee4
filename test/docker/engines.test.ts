/**
 * `npm install` on the oldest Node the project supports prints no engine warning: every package in the lock file
 * accepts it. cookie@2 (brought by @fastify/cookie 11.1.1+ and light-my-request 6.8+) asks for Node 22, so those
 * two are held at the last versions on cookie@1 (package.json `overrides`); this test says when an update brings
 * such a package back.
 */
import { readFileSync } from 'node:fs';
import { minVersion, satisfies } from 'semver';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('engines', () => {
  const oldest = minVersion(manifest.engines.node)?.version;

  it('declares the oldest supported Node', () => {
    expect(oldest).toBe('20.19.0');
  });

  it('holds no package that refuses the oldest supported Node', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range && oldest && !satisfies(oldest, range) ? [`${path}@${entry.version}: ${range}`] : [];
      });
    expect(refusing).toEqual([]);
  });
});
