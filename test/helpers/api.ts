/** Calls to the app's /api/v1/ as an integration makes them, and the tokens and conversations they need. */
import { createApiToken } from '../../src/db/api-tokens.js';
import type { OperatorRole } from '../../src/domain/roles.js';
import { eventually, type TestApp } from './app.js';
import { inboundParams } from './twilio.js';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function callApi<T = Record<string, unknown>>(
  app: TestApp,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${app.url}/api/v1${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}

export interface TestToken {
  token: string;
  id: string;
  name: string;
}

export async function tokenFor(
  app: TestApp,
  role: OperatorRole,
  name = `${role}-${Date.now()}`,
): Promise<TestToken> {
  const { token, apiToken } = await createApiToken(app.running.composed.deps.db, { name, role });
  return { token, id: apiToken.id, name };
}

let n = 0;
/** A sender address no other test of the process uses. */
export function newSender(prefix = '1415888'): string {
  return `whatsapp:+${prefix}${String(1000 + n++).padStart(4, '0')}`;
}

/** A conversation that exists because its user wrote `text` and was answered (the reply sent to Twilio). */
export async function answeredConversation(app: TestApp, from: string, text = 'hi'): Promise<string> {
  await app.postSigned('/api/whatsapp/webhook/', inboundParams({ From: from, Body: text }));
  return eventually('the conversation and its reply sent', async () => {
    const [row] = await app.query<{ id: string }>(
      `select c.id from conversations c join messages m on m.conversation_id = c.id and m.role = 'assistant'
       join deliveries d on d.message_id = m.id and d.status not in ('pending', 'sending')
       where c.user_address = $1`,
      [from],
    );
    return row?.id;
  });
}
