/** The data-rights part of the OpenAPI description (openapi.ts): a person's export and erasure, admins only. */
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({
  description,
  content: json({ $ref: '#/components/schemas/Error' }),
});

const addressParam = {
  name: 'address',
  in: 'path',
  required: true,
  description:
    'The person’s address exactly as the channel gives it, URL-encoded (`whatsapp%3A%2B15551234567`). ' +
    'Matched against each conversation’s key and reply address, on every channel.',
  schema: { type: 'string', examples: ['whatsapp:+15551234567'] },
};

const ERRORS = {
  '401': error('No valid token (missing, unknown or revoked).'),
  '403': error('Only the `admin` role may (permission `data.rights`; code `forbidden`).'),
  '404': error('Nothing is held about this address (`not_found`).'),
  '429': error('Too many requests from this client address; see Retry-After.'),
};

const COUNTS = {
  type: 'object',
  description: 'Rows deleted, and (webhookLogs, auditEntries) rewritten with the pseudonym.',
  properties: Object.fromEntries(
    [
      'conversations',
      'messages',
      'deliveries',
      'deliveryEvents',
      'modelCalls',
      'notes',
      'webhookLogs',
      'auditEntries',
    ].map((name) => [name, { type: 'integer', minimum: 0 }]),
  ),
};

export const DATA_RIGHTS_PATHS = {
  '/users/{address}/export': {
    get: {
      operationId: 'exportUserData',
      summary: 'Everything held about one person, as one JSON document',
      description:
        'Profile, conversations (mode, dates, assignee), messages (direction, author, text, kind, status or ' +
        'outcome, typed payload with media references, delivery parts with statuses, error codes and every ' +
        'status callback), model calls (provider, model, tokens, latency; never prompts), operators’ notes, ' +
        'opt-out state, audit entries about them, and how many raw webhook rows mention them. Audited as ' +
        '`data.export` with the person’s pseudonym as the target.',
      parameters: [addressParam],
      responses: {
        '200': {
          description: 'The export (`format`: `whatsapp-ai-chatbot.user-data.v1`).',
          content: json({
            type: 'object',
            required: ['format', 'exportedAt', 'subject', 'profile', 'conversations', 'auditEntries'],
            properties: {
              format: { type: 'string', const: 'whatsapp-ai-chatbot.user-data.v1' },
              exportedAt: { type: 'string', format: 'date-time' },
              subject: { type: 'object' },
              profile: { type: 'object' },
              conversations: { type: 'array', items: { type: 'object' } },
              optOut: { type: 'object' },
              auditEntries: { type: 'array', items: { type: 'object' } },
              webhookLogs: { type: 'object' },
            },
          }),
        },
        ...ERRORS,
      },
    },
  },
  '/users/{address}': {
    delete: {
      operationId: 'eraseUserData',
      summary: 'Erase everything held about one person',
      description:
        'Deletes their conversations with messages, deliveries, model calls and notes, the status callbacks of ' +
        'their messages, their media, cached context and rate-limit counter; webhook-log and audit rows that ' +
        'mention them keep no content and carry a pseudonym instead of their number. Their next message starts ' +
        'a new conversation. Cannot be undone. Audited as `data.erase`.',
      parameters: [addressParam],
      responses: {
        '200': {
          description: 'Erased; what went.',
          content: json({
            type: 'object',
            required: ['erased', 'pseudonym', 'counts'],
            properties: {
              erased: { type: 'boolean', const: true },
              pseudonym: { type: 'string', description: 'What the logs now call them (`anon_…`).' },
              counts: COUNTS,
              mediaFiles: { type: 'integer', minimum: 0 },
              hotStateCleared: {
                type: 'boolean',
                description: 'False when Redis did not answer: the cached state then expires by itself.',
              },
            },
          }),
        },
        ...ERRORS,
      },
    },
  },
} as const;
