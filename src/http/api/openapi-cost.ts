/** The cost part of the OpenAPI description (openapi.ts): spend per day, per key, per conversation. */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const COMMON_ERRORS = {
  '401': error('No valid token (missing, unknown or revoked). Answered with `WWW-Authenticate: Bearer`.'),
  '403': error('The token’s role does not allow this (code `forbidden`).'),
  '429': error('Too many requests from this client address (IP_RATE_LIMIT_MAX per window); see Retry-After.'),
};

const figure = {
  costUsd: {
    type: 'number',
    description: 'US dollars, from the prices in force when each call was made (exact to the micro-dollar)',
  },
  calls: { type: 'integer', description: 'Model calls (used, discarded and failed)' },
  unpricedCalls: {
    type: 'integer',
    description: 'Calls of models without a price: their cost is unknown, not counted in costUsd',
  },
};

export const COST_PATHS = {
  '/costs': {
    get: {
      operationId: 'costsPerDay',
      summary: 'Model spend per day (the day in TIMEZONE), newest first, with today’s total and the caps',
      parameters: [
        {
          name: 'days',
          in: 'query',
          description: 'How many days back, today included.',
          schema: { type: 'integer', minimum: 1, maximum: 366, default: 30 },
        },
      ],
      responses: {
        '200': {
          description: 'Days with no model call are left out.',
          content: json({
            type: 'object',
            properties: {
              timezone: { type: 'string' },
              today: { type: 'string', format: 'date' },
              spentTodayUsd: { type: 'number' },
              caps: {
                type: 'object',
                properties: {
                  userDailyUsd: { type: 'number', description: 'SPEND_CAP_USER_DAILY_USD; 0 = none' },
                  dailyUsd: { type: 'number', description: 'SPEND_CAP_DAILY_USD; 0 = none' },
                  cheaperModel: { type: ['string', 'null'], description: 'SPEND_CAP_FALLBACK_MODEL' },
                },
              },
              days: {
                type: 'array',
                items: { type: 'object', properties: { day: { type: 'string', format: 'date' }, ...figure } },
              },
            },
          }),
        },
        '400': error('A bad query parameter (`invalid_query`).'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/costs/{day}': {
    get: {
      operationId: 'costsOfDay',
      summary: 'One day’s spend by user, business number, model or conversation, the most expensive first',
      parameters: [
        {
          name: 'day',
          in: 'path',
          required: true,
          description: 'YYYY-MM-DD, in TIMEZONE.',
          schema: { type: 'string', format: 'date' },
        },
        {
          name: 'by',
          in: 'query',
          description:
            '`user` (key `<channel>:<user address>`), `number` (`<channel>:<business number>`, empty for the ' +
            'default number), `model`, or `conversation` (rows with the conversation id, user and number).',
          schema: { type: 'string', enum: ['user', 'number', 'model', 'conversation'], default: 'user' },
        },
        {
          name: 'limit',
          in: 'query',
          description: 'Rows; larger values are treated as 500.',
          schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
        },
      ],
      responses: {
        '200': {
          description: 'The rows.',
          content: json({
            type: 'object',
            properties: {
              day: { type: 'string', format: 'date' },
              by: { type: 'string' },
              rows: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    key: { type: 'string' },
                    conversationId: { type: 'string', format: 'uuid' },
                    channel: { type: 'string' },
                    user: { type: 'string' },
                    number: { type: 'string' },
                    ...figure,
                  },
                },
              },
            },
          }),
        },
        '404': error('Not a day (`not_found`).'),
        '400': error('A bad query parameter (`invalid_query`).'),
        ...COMMON_ERRORS,
      },
    },
  },
  '/conversations/{id}/cost': {
    get: {
      operationId: 'conversationCost',
      summary: 'What a conversation’s model calls cost, in all and per answer',
      description:
        'Per answer: the calls made for the batch it answers (the used one and any discarded or failed before ' +
        'it). As far as the calls are kept: RETENTION_DAYS deletes old ones.',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The conversation id.',
          schema: { type: 'string', format: 'uuid' },
        },
      ],
      responses: {
        '200': {
          description: 'The figures.',
          content: json({
            type: 'object',
            properties: {
              conversationId: { type: 'string', format: 'uuid' },
              ...figure,
              messages: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { messageId: { type: 'string', format: 'uuid' }, ...figure },
                },
              },
            },
          }),
        },
        '404': error('No conversation with this id (`not_found`).'),
        ...COMMON_ERRORS,
      },
    },
  },
};
