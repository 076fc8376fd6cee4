/**
 * The OpenAPI 3.1 description of /api/v1/, served at /api/v1/openapi.json. Hand-written, so it says what the
 * contract is rather than what the code happens to do; test/e2e/api.test.ts checks that every route is in it.
 */
import { CONVERSATION_MODES } from '../../domain/conversation-mode.js';
import { DELIVERY_STATUSES } from '../../domain/delivery.js';
import { PROCESSING_STATUSES } from '../../domain/outcome.js';
import { ROLES } from '../../domain/roles.js';
import { CONVERSATION_PAGE } from '../../inbox/conversations.js';
import { MESSAGE_PAGE } from '../../inbox/messages.js';
import { DATA_RIGHTS_PATHS } from './openapi-data-rights.js';
import { MAX_TEXT_LENGTH } from './params.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The conversation id (a uuid; anything else is a 404).',
  schema: { type: 'string', format: 'uuid' },
};
const cursorParam = {
  name: 'cursor',
  in: 'query',
  description: 'The `nextCursor` of the previous page, unchanged (opaque).',
  schema: { type: 'string' },
};
const limitParam = (page: { default: number; max: number }) => ({
  name: 'limit',
  in: 'query',
  description: `Page size; larger values are treated as ${page.max}.`,
  schema: { type: 'integer', minimum: 1, maximum: page.max, default: page.default },
});

const COMMON_ERRORS = {
  '401': error('No valid token (missing, unknown or revoked). Answered with `WWW-Authenticate: Bearer`.'),
  '403': error('The token’s role does not allow this (code `forbidden`).'),
  '429': error('Too many requests from this client address (IP_RATE_LIMIT_MAX per window); see Retry-After.'),
};
const BODY_ERRORS = {
  '400': error('Invalid JSON (`invalid_json`) or a bad header (`invalid_header`).'),
  '415': error('The body is not `application/json` (`unsupported_media_type`).'),
  '422': error('The JSON does not match the schema (`invalid_body`); the message names each problem.'),
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'whatsapp-ai-chatbot operator API',
    version: '1',
    description:
      'Read conversations, answer users as an operator, start messages (a text or a template) to anyone and ' +
      'hand conversations between the bot and people. ' +
      'Tokens are created on the server with `chatbot api-token create --name NAME --role admin|agent|viewer`. ' +
      'Roles: `viewer` reads; `agent` and `admin` also reply, send and switch modes; only `admin` exports or erases a ' +
      'person’s data. Every change is written to the ' +
      'audit log with the token as the actor. Errors are always `{"error": {"code", "message"}}`.',
  },
  servers: [{ url: '/api/v1' }],
  security: [{ bearerAuth: [] }],
  paths: {
    '/conversations': {
      get: {
        operationId: 'listConversations',
        summary: 'Conversations, newest activity first',
        parameters: [
          {
            name: 'mode',
            in: 'query',
            description: 'Only conversations in this mode (`human`: the ones waiting for a person).',
            schema: { type: 'string', enum: CONVERSATION_MODES },
          },
          {
            name: 'user',
            in: 'query',
            description: 'Only the user with this channel address, exactly as the channel gives it.',
            schema: { type: 'string', examples: ['whatsapp:+15551234567'] },
          },
          limitParam(CONVERSATION_PAGE),
          cursorParam,
        ],
        responses: {
          '200': {
            description: 'One page.',
            content: json({
              type: 'object',
              required: ['conversations', 'nextCursor'],
              properties: {
                conversations: { type: 'array', items: ref('Conversation') },
                nextCursor: { type: ['string', 'null'], description: 'null on the last page.' },
              },
            }),
          },
          '400': error('A bad query parameter (`invalid_query`) or cursor (`invalid_cursor`).'),
          ...COMMON_ERRORS,
        },
      },
    },
    '/conversations/{id}': {
      get: {
        operationId: 'getConversation',
        summary: 'One conversation (the object itself, as in the list)',
        parameters: [idParam],
        responses: {
          '200': { description: 'The conversation.', content: json(ref('Conversation')) },
          '404': error('No conversation with this id (`not_found`).'),
          ...COMMON_ERRORS,
        },
      },
    },
    '/conversations/{id}/messages': {
      get: {
        operationId: 'listMessages',
        summary: 'The newest messages of a conversation, returned oldest first',
        parameters: [idParam, limitParam(MESSAGE_PAGE), cursorParam],
        responses: {
          '200': {
            description: 'The newest `limit` messages (with `cursor`: the ones before it), oldest first.',
            content: json({
              type: 'object',
              required: ['messages', 'nextCursor'],
              properties: {
                messages: { type: 'array', items: ref('Message') },
                nextCursor: {
                  type: ['string', 'null'],
                  description: 'Cursor for the page of older messages; null when there are none.',
                },
              },
            }),
          },
          '400': error('A bad query parameter (`invalid_query`) or cursor (`invalid_cursor`).'),
          '404': error('No conversation with this id (`not_found`).'),
          ...COMMON_ERRORS,
        },
      },
      post: {
        operationId: 'sendMessage',
        summary: 'Send a text to the user as the operator whose token it is',
        description:
          'Stored and delivered through the same outbound path as the bot’s replies (split into several ' +
          'WhatsApp messages when long, sent once, delivery statuses). Works in every mode and does not change ' +
          'it. Needs the `agent` or `admin` role.',
        parameters: [
          idParam,
          {
            name: 'Idempotency-Key',
            in: 'header',
            description:
              'Optional. The same key twice (per token) sends one message; the second answer returns it. ' +
              'Without it every request is a new message. Reusing a key for another text or conversation is a 409.',
            schema: { type: 'string', maxLength: 255 },
          },
        ],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['text'],
            properties: { text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH } },
          }),
        },
        responses: {
          '202': {
            description: 'Accepted: stored and queued for delivery (follow `status` in the messages).',
            content: json({ type: 'object', required: ['message'], properties: { message: ref('Message') } }),
          },
          ...BODY_ERRORS,
          '404': error('No conversation with this id (`not_found`).'),
          '409': error(
            'The Idempotency-Key was used for another text or conversation (`idempotency_key_reused`), or the ' +
              'user opted out and nothing may be sent to them (`opted_out`).',
          ),
          ...COMMON_ERRORS,
        },
      },
    },
    '/messages': {
      post: {
        operationId: 'sendProactiveMessage',
        summary: 'Start a message to a person: a text or an approved template, to any WhatsApp address',
        description:
          'The person’s conversation is found by address, or created when they never wrote. Stored and ' +
          'delivered through the same outbound path as every message (sent once, delivery statuses). ' +
          'Outside the 24-hour window only a template may go; an opted-out person gets nothing. ' +
          'Needs the `agent` or `admin` role (as replying does); audited as `message.proactive`.',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            description:
              'Optional. The same key twice (per token) sends one message; the second answer returns it. ' +
              'Reusing a key for another message or person is a 409.',
            schema: { type: 'string', maxLength: 255 },
          },
        ],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['to'],
            description: 'Exactly one of `text` or `template`.',
            properties: {
              to: {
                type: 'string',
                description:
                  '`whatsapp:+E164` or `whatsapp:` + a business-scoped id; a bare `+E164` or scoped id is ' +
                  'taken as the same with `whatsapp:`.',
                examples: ['whatsapp:+15551234567', '+15551234567', 'whatsapp:CO.4480491918930694'],
              },
              from: {
                type: 'string',
                description: 'One of our numbers (today: TWILIO_WHATSAPP_NUMBER); default: that one.',
              },
              text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH },
              template: {
                type: 'object',
                required: ['id'],
                properties: {
                  id: { type: 'string', pattern: '^HX[0-9a-fA-F]{32}$', description: 'Twilio Content SID.' },
                  variables: {
                    type: 'object',
                    additionalProperties: { type: 'string', minLength: 1, maxLength: 1600 },
                    description: 'ContentVariables: `{"1": "Ana"}`; keys letters, digits or _, ≤ 16 chars.',
                  },
                },
              },
            },
          }),
        },
        responses: {
          '202': {
            description:
              'Accepted: stored and queued for delivery (follow `status` in the conversation’s messages).',
            content: json({
              type: 'object',
              required: ['message', 'conversation'],
              properties: { message: ref('Message'), conversation: ref('Conversation') },
            }),
          },
          ...BODY_ERRORS,
          '422': error(
            'The JSON does not match (`invalid_body`), or `to` is no WhatsApp address (`invalid_address`), ' +
              '`from` is not ours (`invalid_from`), the template is malformed (`invalid_template`), or this ' +
              'server has no WhatsApp channel (`channel_not_configured`).',
          ),
          '409': error(
            'Refused for this person: `opted_out`, or `outside_window` (a text after 24 h with no template ' +
              'configured); or the Idempotency-Key was used for another message (`idempotency_key_reused`).',
          ),
          ...COMMON_ERRORS,
        },
      },
    },
    '/conversations/{id}/mode': {
      post: {
        operationId: 'switchMode',
        summary: 'Switch who answers: the bot, a person (`human`), or nobody (`paused`)',
        description:
          'Entering `human` is a handoff: the user gets HANDOFF_MESSAGE once and the bot stays silent until ' +
          'switched back to `bot` (or the idle timer does it). Needs the `agent` or `admin` role.',
        parameters: [idParam],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['mode'],
            properties: { mode: { type: 'string', enum: CONVERSATION_MODES } },
          }),
        },
        responses: {
          '200': { description: 'The conversation after the switch.', content: json(ref('Conversation')) },
          ...BODY_ERRORS,
          '404': error('No conversation with this id (`not_found`).'),
          ...COMMON_ERRORS,
        },
      },
    },
    ...DATA_RIGHTS_PATHS,
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This description',
        security: [],
        responses: { '200': { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) } },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: `A token from \`chatbot api-token create\` (\`wacb_…\`), role ${ROLES.join(', ')}.`,
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: {
                type: 'string',
                description: 'Stable: unauthorized, forbidden, not_found, invalid_json, invalid_body, …',
              },
              message: { type: 'string', description: 'For people; may change.' },
            },
          },
        },
      },
      Conversation: {
        type: 'object',
        required: ['id', 'user', 'profileName', 'channel', 'mode', 'lastMessageAt', 'assignee'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          user: {
            type: 'string',
            description: 'The user’s address exactly as the channel gives it (where replies go).',
            examples: ['whatsapp:+15551234567'],
          },
          profileName: { type: ['string', 'null'] },
          channel: { type: 'string', enum: ['twilio', 'meta', 'simulator'] },
          mode: { type: 'string', enum: CONVERSATION_MODES },
          lastMessageAt: {
            type: 'string',
            format: 'date-time',
            description: 'When the user last wrote (the order of the list).',
          },
          assignee: { type: ['string', 'null'], description: 'The assigned operator’s username.' },
          handoffAt: {
            type: ['string', 'null'],
            format: 'date-time',
            description: 'Last switch to `human`.',
          },
          handoffReason: {
            type: ['string', 'null'],
            description: 'Why: `keyword`, `model: <reason>`, `operator`.',
          },
          optedOut: {
            type: 'boolean',
            description:
              'The user opted out: nothing is sent to them (a send is refused with 409 `opted_out`).',
          },
          optedOutAt: { type: ['string', 'null'], format: 'date-time', description: 'Since when.' },
          optOutSource: {
            type: ['string', 'null'],
            description: 'How: `keyword` (the user wrote one), `provider:21610` (Twilio refused a send).',
          },
          optOutKeyword: { type: ['string', 'null'], description: 'The keyword the user wrote.' },
        },
      },
      Message: {
        type: 'object',
        required: ['id', 'direction', 'author', 'text', 'kind', 'status', 'outcome', 'createdAt'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          direction: { type: 'string', enum: ['inbound', 'outbound'] },
          author: { type: 'string', enum: ['user', 'assistant', 'operator', 'system'] },
          text: { type: 'string', description: 'The text rendering (media and locations as text too).' },
          kind: { type: 'string', description: 'The content kind: text, image, audio, location, …' },
          status: {
            type: ['string', 'null'],
            description:
              `Inbound: processing (${PROCESSING_STATUSES.join(', ')}). Outbound: delivery over its parts ` +
              `(a failed part, else the least advanced: ${DELIVERY_STATUSES.join(', ')}).`,
          },
          outcome: { type: ['string', 'null'], description: 'Inbound: what happened to it, in words.' },
          outcomeReason: { type: ['string', 'null'], description: 'Inbound: the outcome’s stable code.' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;
