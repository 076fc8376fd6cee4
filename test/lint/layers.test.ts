/**
 * The layer rules of eslint.layers.js fire: each snippet below is linted as if it were a file at `path` (the
 * file need not exist; its imports are resolved from there, to the real files of src/). A rule that silently
 * stopped matching (a renamed folder, a resolver that no longer finds `.ts` files behind `.js` specifiers,
 * a plugin upgrade that changes the selector syntax) fails here instead of letting every import through.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;

beforeAll(async () => {
  const module = (await import(pathToFileURL(join(root, 'eslint.layers.js')).href)) as {
    layers: Linter.Config;
  };
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ languageOptions: { parser: tseslint.parser } }, module.layers],
  });
});

/** The lines of `code` that break a layer rule when it lives at `path`. */
async function violations(path: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  const messages = result?.messages ?? [];
  const other = messages.filter((message) => message.ruleId !== 'boundaries/dependencies');
  expect(other).toEqual([]);
  return messages.map((message) => message.line);
}

describe('layer rules', () => {
  it.each([
    ['src/domain/x.ts', "import { readFileSync } from 'node:fs';", 'node I/O in the domain'],
    ['src/domain/x.ts', "import { z } from 'zod';", 'a package in the domain'],
    ['src/domain/x.ts', "import type { JobQueue } from '../ports.js';", 'ports.ts from the domain'],
    ['src/domain/x.ts', "import { saveReply } from '../db/messages.js';", 'a repository from the domain'],
    ['src/pipeline/x.ts', "import { createRedisQueue } from '../infra/redis/queue.js';", 'a Redis adapter'],
    [
      'src/pipeline/x.ts',
      "import { createMemoryLocks } from '../infra/memory/locks.js';",
      'a memory adapter',
    ],
    [
      'src/pipeline/x.ts',
      "import { createTwilioChannel } from '../channels/twilio/channel.js';",
      'a channel',
    ],
    ['src/pipeline/x.ts', "import { createChatModel } from '../ai/select.js';", 'an AI adapter'],
    ['src/pipeline/x.ts', "import { Queue } from 'bullmq';", 'bullmq'],
    ['src/pipeline/x.ts', "import { Redis } from 'ioredis';", 'ioredis'],
    ['src/pipeline/x.ts', "import twilio from 'twilio';", 'twilio'],
    ['src/pipeline/x.ts', "import OpenAI from 'openai';", 'openai'],
    ['src/pipeline/x.ts', "import Anthropic from '@anthropic-ai/sdk';", '@anthropic-ai/sdk'],
    ['src/pipeline/x.ts', "import { messages } from '../db/schema.js';", 'the Drizzle tables'],
    [
      'src/ai/x.ts',
      "import type { PipelineDeps } from '../pipeline/deps.js';",
      'pipeline types in an adapter',
    ],
    ['src/ai/x.ts', "export { sweep } from '../pipeline/sweep.js';", 'a re-export of a use case'],
    ['src/domain/x.ts', "export const load = () => import('node:fs');", 'a dynamic import in the domain'],
    [
      'src/channels/simulator/x.ts',
      "import { acceptInbound } from '../../pipeline/accept-inbound.js';",
      'a use case',
    ],
    ['src/infra/redis/x.ts', "import { sweep } from '../../pipeline/sweep.js';", 'a use case from infra'],
    ['src/admin/x.ts', "import { messages } from '../db/schema.js';", 'the tables from the admin'],
    ['src/admin/routes/x.ts', "import { sql } from 'drizzle-orm';", 'SQL built in the admin'],
    [
      'src/http/simulator/x.ts',
      "import { conversations } from '../../db/schema.js';",
      'tables from the simulator',
    ],
  ])('%s: `%s` is refused (%s)', async (path, code) => {
    expect(await violations(path, `${code}\nexport const used = 1;\n`)).toEqual([1]);
  });

  it.each([
    ['src/domain/x.ts', "import { AppError } from './errors.js';\nimport type { Turn } from './types.js';"],
    [
      'src/pipeline/x.ts',
      [
        "import { saveReply } from '../db/messages.js';",
        "import type { Db } from '../db/connect.js';",
        "import type { JobQueue, AiRuntime } from '../ports.js';",
        "import { splitReply } from '../domain/split.js';",
        "import type { Logger } from '../log.js';",
      ].join('\n'),
    ],
    ['src/ai/x.ts', "import type { AiRuntime } from '../ports.js';\nimport OpenAI from 'openai';"],
    ['src/http/x.ts', "import { acceptInbound } from '../pipeline/accept-inbound.js';"],
    ['src/admin/x.ts', "import { listConversations } from '../db/admin-queries.js';"],
    ['src/db/x.ts', "import { messages } from './schema.js';\nimport { sql } from 'drizzle-orm';"],
    [
      'src/main/x.ts',
      "import { createRedisQueue } from '../infra/redis/queue.js';\nimport { sweep } from '../pipeline/sweep.js';",
    ],
  ])('%s: allowed imports pass', async (path, code) => {
    expect(await violations(path, `${code}\nexport const used = 1;\n`)).toEqual([]);
  });

  it('the project config applies the layer rules to every folder of src/', async () => {
    const project = new ESLint({ cwd: root });
    for (const file of [
      'src/domain/split.ts',
      'src/pipeline/sweep.ts',
      'src/ai/runtime.ts',
      'src/admin/routes.ts',
    ]) {
      const config = (await project.calculateConfigForFile(join(root, file))) as Linter.Config;
      expect(config.rules?.['boundaries/dependencies'], file).toEqual([2, expect.anything()]);
    }
  });
});
