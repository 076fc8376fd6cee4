/**
 * Business numbers: list, add, edit, deactivate/reactivate, remove, through the use cases the CLI's `chatbot
 * number` uses (inbox/business-numbers.ts: validation, encryption, permission, audit). Admins only
 * (settings.manage, checked for the whole group in routes.ts and again by each use case). Credentials are
 * write-only: an empty field keeps the stored value. After a change this process re-reads its directory at
 * once; the others within AI_CONFIG_REFRESH_SECONDS.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAiConfigs } from '../../db/ai-configs.js';
import { findBusinessNumberByRef, type NumberChannel } from '../../db/business-numbers.js';
import { AppError, isAppError } from '../../domain/errors.js';
import {
  addNumber,
  changeNumber,
  listNumbers,
  removeNumber,
  type ListedNumber,
  type NumberDeps,
} from '../../inbox/business-numbers.js';
import type { NumberCredentials } from '../../ports.js';
import { FieldKeyError } from '../../security/field-encryption.js';
import { actorOf, formField, sessionOf } from '../auth.js';
import { idParam, oneOf } from '../params.js';
import { sendPage, type AdminContext } from '../routes.js';
import {
  CREDENTIAL_FIELDS,
  NUMBER_NOTICES,
  numberFormPage,
  numberListPage,
  type NumberFormValues,
} from '../views/numbers.js';

function values(body: unknown): NumberFormValues {
  const text = (name: string) => (formField(body, name) ?? '').trim();
  return {
    channel: text('channel'),
    address: text('address'),
    name: text('name'),
    aiConfig: text('aiConfig'),
  };
}

/** The credential fields of `channel` that were filled in; the other channel's fields must be empty. */
function credentialsOf(body: unknown, channel: NumberChannel): NumberCredentials {
  const credentials: NumberCredentials = {};
  for (const [name] of CREDENTIAL_FIELDS[channel]) {
    const value = (formField(body, name) ?? '').trim();
    if (value !== '') credentials[name] = value;
  }
  const other = channel === 'meta' ? 'twilio' : 'meta';
  const misplaced = CREDENTIAL_FIELDS[other].filter(([name]) => (formField(body, name) ?? '').trim() !== '');
  if (misplaced.length > 0)
    throw new AppError(
      'invalid_input',
      `a ${channel === 'meta' ? 'Meta' : 'Twilio'} number takes no ${misplaced.map(([, label]) => label).join(', ')}`,
    );
  return credentials;
}

/** Problems the operator can fix (invalid values, no encryption key); anything else is a real failure. */
function formProblem(error: unknown): string | null {
  if (isAppError(error) && (error.kind === 'invalid_input' || error.kind === 'not_found'))
    return error.message;
  if (error instanceof FieldKeyError) return error.message;
  return null;
}

export function registerNumberRoutes(scope: FastifyInstance, { deps, options }: AdminContext): void {
  const numberDeps: NumberDeps = { db: deps.db, cipher: options.cipher };
  const frame = (request: FastifyRequest) => ({
    session: sessionOf(request),
    simulatorEnabled: options.simulatorEnabled,
  });
  const aiConfigNames = async () => (await listAiConfigs(deps.db)).map((row) => row.name);
  const load = async (request: FastifyRequest, id: string): Promise<ListedNumber> => {
    const row = await findBusinessNumberByRef(deps.db, idParam(id, 'business number'));
    if (!row) throw new AppError('not_found', 'No business number with this id.');
    const listed = (await listNumbers(numberDeps, actorOf(request))).find((n) => n.row.id === row.id);
    if (!listed) throw new AppError('not_found', 'No business number with this id.');
    return listed;
  };
  /** This process answers with the change at once; a failed re-read is the directory's own concern (logged). */
  const changed = async () => {
    await options.refreshNumbers?.();
  };
  const formPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { number?: ListedNumber; form?: NumberFormValues; error?: string; status?: number } = {},
  ) =>
    sendPage(
      reply,
      numberFormPage({
        ...frame(request),
        number: extra.number,
        aiConfigs: await aiConfigNames(),
        form: extra.form,
        error: extra.error,
        saved: (request.query as { done?: string }).done === 'saved',
      }),
      extra.status,
    );

  scope.get<{ Querystring: { done?: string } }>('/numbers', async (request, reply) =>
    sendPage(
      reply,
      numberListPage({
        ...frame(request),
        numbers: await listNumbers(numberDeps, actorOf(request)),
        environment: options.environmentNumbers,
        done: oneOf(request.query.done, Object.keys(NUMBER_NOTICES), ''),
        canStoreCredentials: options.cipher !== null,
      }),
    ),
  );

  scope.get('/numbers/new', (request, reply) => formPage(request, reply));

  scope.post('/numbers', async (request, reply) => {
    const form = values(request.body);
    try {
      const channel = oneOf(form.channel, ['twilio', 'meta'] as const, 'twilio');
      const row = await addNumber(numberDeps, actorOf(request), {
        channel,
        address: form.address,
        name: form.name,
        aiConfig: form.aiConfig === '' ? undefined : form.aiConfig,
        credentials: credentialsOf(request.body, channel),
      });
      request.log.info(
        { number: row.address, channel: row.channel, user: sessionOf(request).username },
        'business number added',
      );
      await changed();
      return await reply.redirect('/admin/numbers?done=added', 303);
    } catch (error) {
      const problem = formProblem(error);
      if (!problem) throw error;
      // The credentials are not echoed back: the operator types them again.
      return formPage(request, reply, { form, error: problem, status: 400 });
    }
  });

  scope.get<{ Params: { id: string } }>('/numbers/:id', async (request, reply) =>
    formPage(request, reply, { number: await load(request, request.params.id) }),
  );

  scope.post<{ Params: { id: string } }>('/numbers/:id', async (request, reply) => {
    const number = await load(request, request.params.id);
    const form = values(request.body);
    const { row } = number;
    try {
      // Only what differs is changed, so the audit row names what really changed.
      const name = form.name === '' ? null : form.name;
      const aiConfig = form.aiConfig === '' ? null : form.aiConfig;
      const credentials = credentialsOf(request.body, row.channel === 'meta' ? 'meta' : 'twilio');
      const change = {
        ...(name === row.name ? {} : { name }),
        ...(aiConfig === number.aiConfig ? {} : { aiConfig }),
        credentials,
      };
      if (Object.keys(change).length === 1 && Object.keys(credentials).length === 0)
        return await reply.redirect(`/admin/numbers/${row.id}?done=saved`, 303);
      await changeNumber(numberDeps, actorOf(request), row.id, change);
      request.log.info(
        { number: row.address, channel: row.channel, user: sessionOf(request).username },
        'business number updated',
      );
      await changed();
      return await reply.redirect(`/admin/numbers/${row.id}?done=saved`, 303);
    } catch (error) {
      const problem = formProblem(error);
      if (!problem) throw error;
      return formPage(request, reply, {
        number,
        form: { ...form, channel: row.channel },
        error: problem,
        status: 400,
      });
    }
  });

  const action = (
    path: string,
    run: (id: string, request: FastifyRequest) => Promise<unknown>,
    done: string,
  ) =>
    scope.post<{ Params: { id: string } }>(`/numbers/:id/${path}`, async (request, reply) => {
      const { row } = await load(request, request.params.id);
      await run(row.id, request);
      request.log.info(
        { number: row.address, channel: row.channel, user: sessionOf(request).username, action: path },
        'business number',
      );
      await changed();
      return reply.redirect(`/admin/numbers?done=${done}`, 303);
    });
  action(
    'deactivate',
    (id, request) => changeNumber(numberDeps, actorOf(request), id, { active: false }),
    'deactivated',
  );
  action(
    'activate',
    (id, request) => changeNumber(numberDeps, actorOf(request), id, { active: true }),
    'activated',
  );
  action('delete', (id, request) => removeNumber(numberDeps, actorOf(request), id), 'removed');
}
