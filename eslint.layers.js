// @ts-check
/**
 * The import rules of the layers (docs/layers.md), checked by eslint-plugin-boundaries as part of `npm run lint`.
 * Kept apart from eslint.config.js so test/lint/layers.test.ts can run exactly these rules on snippets that
 * break them. Every file of src/ belongs to one element: the first pattern that matches wins.
 */
import boundaries from 'eslint-plugin-boundaries';

/** The SDKs behind the adapters; the use cases reach them only through ports. */
const SDKS = ['ioredis', 'bullmq', 'twilio', 'openai', '@anthropic-ai/sdk', 'pg', 'fastify'];

/** @type {import('eslint').Linter.Config} */
export const layers = {
  files: ['src/**/*.ts'],
  plugins: { boundaries },
  settings: {
    // Resolves our `./x.js` specifiers to the `.ts` files, as tsc does.
    'import/resolver': { typescript: { project: './tsconfig.json' } },
    'boundaries/elements': [
      { type: 'domain', pattern: 'src/domain' },
      // src/inbox/: the operators' use cases (reply, switch mode, assign, notes), shared by the admin UI and the API.
      { type: 'pipeline', pattern: ['src/pipeline', 'src/inbox'] },
      { type: 'db', pattern: 'src/db' },
      { type: 'adapter', pattern: ['src/infra', 'src/channels', 'src/ai'] },
      { type: 'http', pattern: 'src/http' },
      { type: 'admin', pattern: 'src/admin' },
      { type: 'main', pattern: 'src/main' },
      // Everything else is shared by every layer: ports.ts, log.ts, config/, errors/, observability/, security/,
      // cli/ (each is checked by TypeScript and review, not by a layer rule).
      { type: 'shared', pattern: 'src' },
    ],
    'boundaries/files': [{ category: 'db-schema', pattern: 'src/db/schema.ts' }],
  },
  rules: {
    'boundaries/no-unknown-files': 'error',
    'boundaries/dependencies': [
      'error',
      {
        default: 'allow',
        // Also judge imports of packages and node: built-ins, not only of our own files.
        checkAllOrigins: true,
        policies: [
          {
            from: { element: { type: 'domain' } },
            disallow: {
              to: [{ element: { type: '!domain' } }, { module: { origin: ['external', 'core'] } }],
            },
            message:
              'src/domain/ is pure: it imports only other domain files (no node I/O, database, ports or SDKs).',
          },
          {
            from: { element: { type: 'pipeline' } },
            disallow: {
              to: [{ element: { type: ['adapter', 'http', 'admin', 'main'] } }, { module: { source: SDKS } }],
            },
            message:
              'src/pipeline/ sees ports.ts, the domain and the repositories of src/db/: adapters and SDKs come in as ports.',
          },
          {
            from: { element: { type: 'adapter' } },
            disallow: { to: { element: { type: ['pipeline', 'http', 'admin', 'main'] } } },
            message:
              'Adapters (src/infra/, src/channels/, src/ai/) implement ports and never call use cases; routes that do are src/http/.',
          },
          {
            from: { element: { type: '!db' } },
            disallow: { to: { file: { categories: 'db-schema' } } },
            message:
              'Tables are read and written through the repositories of src/db/, never through src/db/schema.ts.',
          },
          {
            from: { element: { type: ['pipeline', 'http', 'admin'] } },
            disallow: { to: { module: { source: 'drizzle-orm' } } },
            message: 'Queries live in the repositories of src/db/; call one instead of building SQL here.',
          },
        ],
      },
    ],
  },
};
