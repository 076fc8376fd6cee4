/**
 * AI configurations: list, create, edit, activate/deactivate, delete, and a live test. The repository
 * (db/ai-configs.ts) validates, encrypts keys and keeps one active configuration; workers pick an activation up
 * within AI_CONFIG_REFRESH_SECONDS. Every activation runs the live test first; one that fails is shown with an
 * "Activate anyway" button (force). An API key is accepted here and never shown again except masked. Admins only
 * (settings.manage, checked for the whole group in routes.ts); every change is audited, without the key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  createAiConfig,
  deactivateAiConfig,
  deleteAiConfig,
  getAiConfig,
  listAiConfigs,
  toAiConfigView,
  updateAiConfig,
  type AiConfigRow,
} from '../../db/ai-configs.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { aiConfigAuditDetails, aiConfigTarget } from '../../inbox/ai-config-audit.js';
import { audit } from '../../inbox/audit.js';
import { FieldKeyError } from '../../security/field-encryption.js';
import {
  activateIfItAnswers,
  DEFAULT_TEST_PROMPT,
  testAiConfig,
  type AiTestInput,
  type AiTestResult,
} from '../ai-test.js';
import { actorOf, formField, sessionOf } from '../auth.js';
import { idParam, oneOf } from '../params.js';
import { sendPage, type AdminContext } from '../routes.js';
import { aiConfigFormPage, aiConfigListPage, LIST_NOTICES, type FormValues } from '../views/ai-configs.js';

function values(body: unknown): FormValues {
  const text = (name: string) => (formField(body, name) ?? '').trim();
  return {
    name: text('name'),
    provider: text('provider'),
    model: text('model'),
    baseUrl: text('baseUrl'),
    systemPrompt: formField(body, 'systemPrompt')?.trim() ?? '',
    temperature: text('temperature'),
    maxTokens: text('maxTokens'),
    vision: text('vision') || 'default',
    voiceAnswers: formField(body, 'voiceAnswers') === 'on',
    voice: text('voice'),
    activate: formField(body, 'activate') === 'on',
    clearKey: formField(body, 'clearKey') === 'on',
  };
}

const optionalNumber = (text: string) => (text === '' ? null : Number(text));
const optionalText = (text: string) => (text === '' ? null : text);
/** The form's vision select: on/off, anything else the table's default (null). */
const visionOf = (value: string) => (value === 'on' ? true : value === 'off' ? false : null);

/** Problems the operator can fix (invalid values, no encryption key); anything else is a real failure. */
function formProblem(error: unknown): string | null {
  if (isAppError(error) && error.kind === 'invalid_input') return error.message;
  if (error instanceof FieldKeyError) return error.message;
  return null;
}

export function registerAiConfigRoutes(scope: FastifyInstance, { deps, options }: AdminContext): void {
  const frame = (request: FastifyRequest) => ({
    session: sessionOf(request),
    simulatorEnabled: options.simulatorEnabled,
  });
  const load = async (id: string): Promise<AiConfigRow> => {
    const row = await getAiConfig(deps.db, { id: idParam(id, 'AI configuration') });
    if (!row) throw new AppError('not_found', 'No AI configuration with this id.');
    return row;
  };
  const editPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    row: AiConfigRow,
    extra: {
      form?: FormValues;
      error?: string;
      test?: AiTestResult;
      prompt?: string;
      status?: number;
      refused?: string;
    } = {},
  ) =>
    sendPage(
      reply,
      aiConfigFormPage({
        ...frame(request),
        config: toAiConfigView(row, options.cipher),
        form: extra.form,
        error: extra.error,
        test: extra.test,
        prompt: extra.prompt ?? DEFAULT_TEST_PROMPT,
        saved: (request.query as { done?: string }).done === 'saved',
        refused: extra.refused,
      }),
      extra.status,
    );

  const record = (
    request: FastifyRequest,
    action: string,
    row: AiConfigRow,
    details: Record<string, unknown>,
  ) => audit(deps, { actor: actorOf(request), action, target: aiConfigTarget(row), details });

  const testInput = (prompt: string): AiTestInput => ({
    prompt,
    environment: options.aiEnvironment,
    cipher: options.cipher,
    appUrl: options.appUrl,
    redact: options.redact,
  });

  /**
   * Activate after the live test: on to the list when it answered (or `force`), else back to the configuration's
   * page with the failure, `refused` saying what happened, and the "Activate anyway" button.
   */
  const activateOrExplain = async (
    request: FastifyRequest,
    reply: FastifyReply,
    row: AiConfigRow,
    input: { force: boolean; done: string; refused: string },
  ) => {
    const outcome = await activateIfItAnswers(deps.db, row, testInput(DEFAULT_TEST_PROMPT), {
      force: input.force,
    });
    const user = sessionOf(request).username;
    if (!outcome.activated) {
      request.log.warn(
        { config: row.name, user, kind: outcome.test.kind },
        'AI configuration not activated: its live test failed',
      );
      return editPage(request, reply, row, { test: outcome.test, refused: input.refused, status: 409 });
    }
    await record(request, 'ai-config.activate', outcome.row, {
      ...aiConfigAuditDetails(outcome.row),
      forced: outcome.forced,
    });
    if (outcome.forced) {
      request.log.warn(
        { config: row.name, user },
        'AI configuration activated although its live test failed',
      );
    } else {
      request.log.info({ config: row.name, user }, 'AI configuration activated');
    }
    return reply.redirect(`/admin/ai-configs?done=${outcome.forced ? 'activated-forced' : input.done}`, 303);
  };

  scope.get<{ Querystring: { done?: string } }>('/ai-configs', async (request, reply) => {
    const rows = await listAiConfigs(deps.db);
    const choice = await deps.ai.current();
    return sendPage(
      reply,
      aiConfigListPage({
        ...frame(request),
        configs: rows.map((row) => toAiConfigView(row, options.cipher)),
        environment: { provider: options.aiEnvironment.provider, model: options.aiEnvironment.model },
        answering: { provider: choice.model.provider, model: choice.model.model },
        done: oneOf(request.query.done, Object.keys(LIST_NOTICES), ''),
        canStoreKeys: options.cipher !== null,
      }),
    );
  });

  scope.get('/ai-configs/new', (request, reply) =>
    sendPage(reply, aiConfigFormPage({ ...frame(request), prompt: DEFAULT_TEST_PROMPT })),
  );

  scope.post('/ai-configs', async (request, reply) => {
    const form = values(request.body);
    const apiKey = formField(request.body, 'apiKey')?.trim() ?? '';
    try {
      const row = await createAiConfig(deps.db, options.cipher, {
        name: form.name,
        provider: form.provider,
        apiKey: apiKey === '' ? undefined : apiKey,
        model: form.model,
        baseUrl: optionalText(form.baseUrl) ?? undefined,
        systemPrompt: optionalText(form.systemPrompt) ?? undefined,
        temperature: optionalNumber(form.temperature) ?? undefined,
        maxTokens: optionalNumber(form.maxTokens) ?? undefined,
        vision: visionOf(form.vision),
        voiceAnswers: form.voiceAnswers,
        voice: optionalText(form.voice) ?? undefined,
      });
      request.log.info({ config: row.name, user: sessionOf(request).username }, 'AI configuration created');
      await record(request, 'ai-config.create', row, aiConfigAuditDetails(row));
      if (!form.activate) return await reply.redirect('/admin/ai-configs?done=created', 303);
      return await activateOrExplain(request, reply, row, {
        force: false,
        done: 'created-active',
        refused: 'Created, but not activated: its live test failed.',
      });
    } catch (error) {
      const problem = formProblem(error);
      if (!problem) throw error;
      // The key is not echoed back: the operator types it again.
      return sendPage(
        reply,
        aiConfigFormPage({ ...frame(request), form, error: problem, prompt: DEFAULT_TEST_PROMPT }),
        400,
      );
    }
  });

  scope.get<{ Params: { id: string } }>('/ai-configs/:id', async (request, reply) =>
    editPage(request, reply, await load(request.params.id)),
  );

  scope.post<{ Params: { id: string } }>('/ai-configs/:id', async (request, reply) => {
    const row = await load(request.params.id);
    const form = values(request.body);
    const apiKey = formField(request.body, 'apiKey')?.trim() ?? '';
    try {
      const updated = await updateAiConfig(
        deps.db,
        options.cipher,
        { id: row.id },
        {
          name: form.name,
          provider: form.provider,
          apiKey: apiKey !== '' ? apiKey : form.clearKey ? null : undefined,
          model: form.model,
          baseUrl: optionalText(form.baseUrl),
          systemPrompt: optionalText(form.systemPrompt),
          temperature: optionalNumber(form.temperature),
          maxTokens: optionalNumber(form.maxTokens),
          vision: visionOf(form.vision),
          voiceAnswers: form.voiceAnswers,
          voice: optionalText(form.voice),
        },
      );
      request.log.info({ config: form.name, user: sessionOf(request).username }, 'AI configuration updated');
      await record(request, 'ai-config.update', updated, aiConfigAuditDetails(updated, row));
      // The form offers "activate" only for an inactive configuration; an active one is saved as it is.
      if (!form.activate || updated.isActive)
        return await reply.redirect(`/admin/ai-configs/${row.id}?done=saved`, 303);
      return await activateOrExplain(request, reply, updated, {
        force: false,
        done: 'activated',
        refused: 'Saved, but not activated: its live test failed.',
      });
    } catch (error) {
      const problem = formProblem(error);
      if (!problem) throw error;
      return editPage(request, reply, row, { form, error: problem, status: 400 });
    }
  });

  scope.post<{ Params: { id: string } }>('/ai-configs/:id/test', async (request, reply) => {
    const row = await load(request.params.id);
    const prompt = (formField(request.body, 'prompt') ?? '').trim().slice(0, 2000) || DEFAULT_TEST_PROMPT;
    const test = await testAiConfig(row, testInput(prompt));
    request.log.info(
      { config: row.name, ok: test.ok, latencyMs: test.latencyMs, ...(test.ok ? {} : { kind: test.kind }) },
      'AI configuration tested',
    );
    return editPage(request, reply, row, { test, prompt });
  });

  const action = (path: string, run: (row: AiConfigRow) => Promise<boolean>, done: string) =>
    scope.post<{ Params: { id: string } }>(`/ai-configs/:id/${path}`, async (request, reply) => {
      const row = await load(request.params.id);
      // false: it was not active (deactivate) or was deleted meanwhile (delete); nothing changed, nothing to audit.
      if (await run(row)) await record(request, `ai-config.${path}`, row, aiConfigAuditDetails(row));
      request.log.info(
        { config: row.name, user: sessionOf(request).username, action: path },
        'AI configuration',
      );
      return reply.redirect(`/admin/ai-configs?done=${done}`, 303);
    });
  scope.post<{ Params: { id: string } }>('/ai-configs/:id/activate', async (request, reply) =>
    activateOrExplain(request, reply, await load(request.params.id), {
      force: formField(request.body, 'force') === 'on',
      done: 'activated',
      refused: 'Not activated: its live test failed. The active configuration has not changed.',
    }),
  );
  action('deactivate', (row) => deactivateAiConfig(deps.db, { id: row.id }), 'deactivated');
  action('delete', (row) => deleteAiConfig(deps.db, { id: row.id }), 'deleted');
}
