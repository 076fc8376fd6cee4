/**
 * Static checks of docker-compose.yml: no Docker engine runs on the development and CI machines, so this is
 * what can be verified without one (see docs/operations.md for what was not run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  container_name?: string;
  ports?: string[];
  env_file?: Array<{ path: string; required?: boolean }>;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: string[];
}

const compose = load(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const APP = ['web', 'worker', 'scheduler'] as const;
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
};

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis, a one-shot migration, web, worker and scheduler', () => {
    expect(Object.keys(services).sort()).toEqual([
      'migrate',
      'postgres',
      'redis',
      'scheduler',
      'web',
      'worker',
    ]);
  });

  it('gives every long-running service a health check, and the app ones check /health/', () => {
    for (const name of ['postgres', 'redis', ...APP]) {
      const check = service(name).healthcheck;
      expect(check?.test?.length, name).toBeGreaterThan(0);
      expect(check?.disable, name).not.toBe(true);
    }
    for (const name of APP) expect(service(name).healthcheck?.test?.join(' ')).toContain('/health/');
  });

  it('checks worker and scheduler on the METRICS_PORT they serve, the web role on its own port', () => {
    for (const name of ['worker', 'scheduler']) {
      const port = service(name).environment?.METRICS_PORT;
      expect(port, name).toMatch(/^\d+$/);
      expect(service(name).healthcheck?.test?.join(' ')).toContain(`127.0.0.1:${port}/health/`);
    }
    expect(service('web').healthcheck?.test?.join(' ')).toContain(
      `127.0.0.1:${service('web').environment?.PORT}/health/`,
    );
  });

  it('starts the app only once PostgreSQL and Redis are healthy and the migration has finished', () => {
    for (const name of APP) {
      expect(service(name).depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
      expect(service(name).environment?.AUTO_MIGRATE).toBe('false');
    }
    expect(service('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(service('migrate').command).toEqual(['node', 'bin/chatbot.js', 'migrate']);
  });

  it('can scale workers: no fixed container names anywhere, no host ports on worker or scheduler', () => {
    for (const [name, s] of Object.entries(services)) expect(s.container_name, name).toBeUndefined();
    expect(service('worker').ports).toBeUndefined();
    expect(service('scheduler').ports).toBeUndefined();
    expect(service('web').ports).toEqual(['${WEB_PORT:-8000}:8000']);
  });

  it('runs each role from the compiled entry point that the build produces', () => {
    for (const name of APP) {
      const [node, entry] = service(name).command ?? [];
      expect(node).toBe('node');
      expect(entry).toBe(`dist/src/main/${name}.js`);
      expect(existsSync(`src/main/${name}.ts`), entry).toBe(true);
      expect(service(name).build).toBe('.');
    }
  });

  it('reads .env for the app services, points them at the compose PostgreSQL and Redis, and keeps no secret inline', () => {
    for (const name of [...APP, 'migrate']) {
      expect(service(name).env_file).toEqual([{ path: '.env', required: false }]);
      expect(service(name).environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
      expect(service(name).environment?.REDIS_URL).toBe('redis://redis:6379/0');
    }
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/KEY|TOKEN|SECRET|PASSWORD/.test(key)) expect(value, `${name} ${key}`).toMatch(/^\$\{/);
      }
    }
  });

  it('keeps PostgreSQL and Redis data in named volumes, and Redis in noeviction mode for BullMQ', () => {
    expect(service('postgres').volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(service('redis').volumes).toEqual(['redis-data:/data']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
    expect(service('redis').command?.join(' ')).toContain('--maxmemory-policy noeviction');
  });
});
