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
import { COST_PATHS } from './openapi-cost.js';
import { DATA_RIGHTS_PATHS } from './openapi-data-rights.js';
import { PROACTIVE_PATHS } from './openapi-proactive.js';
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
          'it. Outside WhatsApp’s 24-hour window (see the conversation’s `window`) the text is not sent: the ' +
          'configured window template (WINDOW_TEMPLATE) goes instead (the message’s `windowTemplate` says so), ' +
          'or, without one, the request is refused with 409 `outside_window`. Needs the `agent` or `admin` role.',
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
              'user opted out and nothing may be sent to them (`opted_out`), or the conversation is outside ' +
              'WhatsApp’s 24-hour window and no window template is configured (`outside_window`): nothing was ' +
              'stored or sent.',
          ),
          ...COMMON_ERRORS,
        },
      },
    },
    ...PROACTIVE_PATHS,
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
    ...COST_PATHS,
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
        required: ['id', 'user', 'profileName', 'channel', 'mode', 'lastMessageAt', 'assignee', 'window'],
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
          window: {
            type: 'object',
            required: ['open', 'closesAt'],
            description:
              'WhatsApp’s 24-hour customer-service window, from the user’s last message: while it is open any ' +
              'message may be sent; once closed, only templates (a text goes as the window template, or is ' +
              'refused). The simulator has no window (always open, `closesAt` null).',
            properties: {
              open: { type: 'boolean' },
              closesAt: {
                type: ['string', 'null'],
                format: 'date-time',
                description:
                  'When it closes (or closed); null when the user never wrote, or no window applies.',
              },
            },
          },
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
          error: {
            type: ['object', 'null'],
            required: ['code', 'outsideWindow'],
            description:
              'Outbound: the provider’s code of a failed delivery (also when reported late by a status ' +
              'callback); `outsideWindow` for a failure outside the 24-hour window (Twilio 63016), which the ' +
              'window template follows once when configured.',
            properties: { code: { type: 'string' }, outsideWindow: { type: 'boolean' } },
          },
          windowTemplate: {
            type: ['object', 'null'],
            description:
              'Outbound: set when this message is the window template. `reason` `outside_window`: it was sent ' +
              'instead of a free-form message (`replaced`: text or media, `text`: what was written, not sent); ' +
              '`window_failure`: it followed the message `failedMessageId`, which failed with `errorCode`.',
            required: ['reason'],
            properties: {
              reason: { type: 'string', enum: ['outside_window', 'window_failure'] },
              replaced: { type: 'string', enum: ['text', 'media'] },
              text: { type: 'string' },
              failedMessageId: { type: 'string', format: 'uuid' },
              errorCode: { type: 'string' },
            },
          },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;
