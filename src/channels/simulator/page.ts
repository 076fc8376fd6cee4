/**
 * The chat page's files (./page/), served as they are: plain HTML, CSS and JavaScript modules, no build step and
 * nothing from a CDN. The policy below allows only our own scripts and styles, so the page must never need
 * inline code; the browser test runs it under exactly this policy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../domain/errors.js';

const PAGE_DIR = new URL('./page/', import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex',
  // A local tool under active development: always the files on disk, never a stale copy.
  'cache-control': 'no-cache',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** Every file of the page directory, read once, by name. */
export function loadPageAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(PAGE_DIR)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(new URL(name, PAGE_DIR)) });
  }
  return assets;
}

/** GET /simulator/ (the page) and GET /simulator/assets/<file>. */
export function registerPage(app: FastifyInstance): void {
  const assets = loadPageAssets();
  const serve = (reply: FastifyReply, name: string) => {
    // Only names read from the directory at start: no path from the request ever reaches the file system.
    const asset = assets.get(name);
    if (!asset || name === 'index.html') throw new AppError('not_found', 'no such simulator file');
    return reply.headers(PAGE_SECURITY_HEADERS).type(asset.type).send(asset.body);
  };
  const page = assets.get('index.html');
  if (!page)
    throw new AppError('internal', 'the simulator page is missing from the package (page/index.html)');
  app.get('/simulator/', (_request, reply) =>
    reply.headers(PAGE_SECURITY_HEADERS).type(page.type).send(page.body),
  );
  app.get<{ Params: { file: string } }>('/simulator/assets/:file', (request, reply) =>
    serve(reply, request.params.file),
  );
}
