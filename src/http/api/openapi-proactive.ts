/** The proactive part of the OpenAPI description (openapi.ts): a message we start, to anyone. */
import { MAX_TEXT_LENGTH } from './params.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const COMMON_ERRORS = {
  '401': error('No valid token (missing, unknown or revoked). Answered with `WWW-Authenticate: Bearer`.'),
  '403': error('The token’s role does not allow this (code `forbidden`).'),
  '429': error('Too many requests from this client address (IP_RATE_LIMIT_MAX per window); see Retry-After.'),
};
const BODY_ERRORS = {
  '400': error('Invalid JSON (`invalid_json`) or a bad header (`invalid_header`).'),
  '415': error('The body is not `application/json` (`unsupported_media_type`).'),
};

export const PROACTIVE_PATHS = {
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
              description:
                'One of our numbers: a Twilio `whatsapp:+E164` sender or a Meta phone number id; it picks the channel. Default: Twilio’s default number, else the first Meta number.',
            },
            text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH },
            template: {
              type: 'object',
              required: ['id'],
              properties: {
                id: {
                  type: 'string',
                  pattern: '^(HX[0-9a-fA-F]{32}|[a-z0-9_]{1,512})$',
                  description: 'Twilio: the Content SID (HX…). Meta: the approved template’s name.',
                },
                language: {
                  type: 'string',
                  pattern: '^[a-z]{2,3}(_[A-Z]{2})?$',
                  description: 'Meta only: the template’s language code; default en_US.',
                },
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
};
