import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { registerPage } from '../../../src/channels/simulator/page.js';
import { createServer } from '../../../src/http/server.js';
import { createLogger } from '../../../src/log.js';

const PAGE_DIR = new URL('../../../src/channels/simulator/page/', import.meta.url);
const pageFiles = readdirSync(PAGE_DIR);
const read = (name: string) => readFileSync(new URL(name, PAGE_DIR), 'utf8');

describe('simulator page files', () => {
  it('the page scripts never build markup from strings (innerHTML and friends), so text cannot become HTML', () => {
    const scripts = pageFiles.filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const name of scripts) {
      const source = read(name);
      for (const sink of [
        'innerHTML',
        'outerHTML',
        'insertAdjacentHTML',
        'document.write',
        'eval(',
        'new Function',
      ]) {
        expect(source.includes(sink), `${name} uses ${sink}`).toBe(false);
      }
    }
  });

  it('the HTML has no inline script, inline style or inline event handler (it runs under a strict CSP)', () => {
    const html = read('index.html');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('every input of the page has a label', () => {
    const html = read('index.html');
    const ids = [...html.matchAll(/<(?:input|textarea)[^>]*\sid="([^"]+)"/g)].map((match) => match[1]);
    expect(ids).toEqual(expect.arrayContaining(['phone', 'profile', 'message']));
    for (const id of ids) expect(html).toContain(`for="${id}"`);
  });
});

describe('serving the simulator page', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = createServer({ log: createLogger({ level: 'silent' }), bodyLimitBytes: 65_536, trustProxy: false });
    registerPage(app);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('GET /simulator/ is the HTML page with a policy that allows only our own scripts', async () => {
    const response = await app.inject({ method: 'GET', url: '/simulator/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toContain('<script type="module" src="/simulator/assets/app.js"></script>');
  });

  it('serves the page files it links with their types', async () => {
    const script = await app.inject({ method: 'GET', url: '/simulator/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe(read('app.js'));
    const style = await app.inject({ method: 'GET', url: '/simulator/assets/style.css' });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it.each(['missing.js', '..%2Fchannel.ts', '..%2F..%2F..%2F..%2Fpackage.json', 'index.html'])(
    'anything else under /simulator/assets/ (%s) is a 404',
    async (name) => {
      const response = await app.inject({ method: 'GET', url: `/simulator/assets/${name}` });
      expect(response.statusCode).toBe(404);
    },
  );
});
