/** What the API's requests carry, checked before a use case runs: path ids, query strings, bodies, headers. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isUuid } from '../../db/conversation-views.js';
import { CONVERSATION_MODES } from '../../domain/conversation-mode.js';
import { ApiProblem } from './problem.js';

/** An operator's message: long texts are split into several WhatsApp messages, so the cap is generous. */
export const MAX_TEXT_LENGTH = 10_000;

/** `{id}` of the path; a malformed id names no conversation, so it is a 404 like an unknown one. */
export function conversationIdOf(request: FastifyRequest): string {
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || !isUuid(id))
    throw new ApiProblem(404, 'not_found', 'no conversation with this id');
  return id;
}

/** `{address}` of the path, decoded (`whatsapp%3A%2B15551234567` → `whatsapp:+15551234567`). */
export function userAddressOf(request: FastifyRequest): string {
  const address = (request.params as { address?: unknown }).address;
  if (typeof address !== 'string' || address.trim() === '' || address.length > 256)
    throw new ApiProblem(404, 'not_found', 'no data is held about this address');
  return address;
}

const limit = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .refine((n) => n >= 1, 'must be at least 1')
  .optional();

export const conversationListQuery = z.object({
  mode: z.enum(CONVERSATION_MODES).optional(),
  user: z.string().min(1).optional(),
  limit,
  cursor: z.string().min(1).optional(),
});

export const messageListQuery = z.object({ limit, cursor: z.string().min(1).optional() });

export const operatorMessageBody = z.object({
  text: z
    .string()
    .max(MAX_TEXT_LENGTH)
    .refine((text) => text.trim() !== '', 'must not be empty'),
});

/**
 * A proactive message: `to`, optionally `from`, and exactly one of `text` or `template`. The addresses, the
 * Content SID and the variables are checked by the use case (one rule for the API and the CLI).
 */
export const proactiveMessageBody = z
  .object({
    to: z.string().min(1),
    from: z.string().min(1).optional(),
    text: z
      .string()
      .max(MAX_TEXT_LENGTH)
      .refine((text) => text.trim() !== '', 'must not be empty')
      .optional(),
    template: z
      .object({
        id: z.string().min(1),
        language: z.string().min(1).optional(),
        variables: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((body) => (body.text === undefined) !== (body.template === undefined), {
    message: 'give exactly one of text or template',
  });

export const modeBody = z.object({ mode: z.enum(CONVERSATION_MODES) });

export function parseQuery<T>(schema: z.ZodType<T>, request: FastifyRequest): T {
  const result = schema.safeParse(request.query);
  if (!result.success) throw new ApiProblem(400, 'invalid_query', describe(result.error));
  return result.data;
}

/** A JSON body that does not match: 422 with every problem named. */
export function parseBody<T>(schema: z.ZodType<T>, request: FastifyRequest): T {
  const result = schema.safeParse(request.body);
  if (!result.success) throw new ApiProblem(422, 'invalid_body', describe(result.error));
  return result.data;
}

/** `Idempotency-Key`: up to 255 visible ASCII characters; absent means every request is a new message. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ApiProblem(400, 'invalid_header', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return key;
}

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
