/**
 * Tool calls through both real SDKs against the fake LLM's wire formats: the tool definition goes out in the
 * protocol's shape, the call comes back on the port; a model that refuses tools still answers (asked once more
 * without them, and never offered them again).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../src/ai/anthropic.js';
import { createOpenAiCompatibleModel } from '../../src/ai/openai-compatible.js';
import { createChatModel } from '../../src/ai/select.js';
import { HANDOFF_TOOL } from '../../src/domain/handoff-tool.js';
import type { ChatRequest } from '../../src/ports.js';
import { captureLog } from '../errors/capture-log.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => {
  llm.reset();
});

const request: ChatRequest = {
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'I want to complain' },
  ],
  tools: [HANDOFF_TOOL],
};

const openai = () =>
  createOpenAiCompatibleModel({
    provider: 'openai-compatible',
    apiKey: undefined,
    model: 'llama3.2',
    baseUrl: llm.openaiBaseUrl,
    timeoutMs: 5000,
  });
const anthropic = () =>
  createAnthropicModel({
    apiKey: 'anthropic-test-key',
    model: 'claude-sonnet-4-6',
    baseUrl: llm.anthropicBaseUrl,
    timeoutMs: 5000,
  });

describe('OpenAI Chat Completions tools', () => {
  it('sends the tool as a function definition and reads tool_calls (arguments a JSON string)', async () => {
    llm.respondOnce({ toolCalls: [{ name: 'handoff', arguments: { reason: 'complaint' } }] });
    const result = await openai().complete(request);
    expect(result.text).toBe('');
    expect(result.toolCalls).toEqual([
      { id: expect.any(String) as string, name: 'handoff', arguments: { reason: 'complaint' } },
    ]);
    const body = llm.requests[0]?.body as { tools: unknown[] };
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'handoff',
          description: HANDOFF_TOOL.description,
          parameters: HANDOFF_TOOL.parameters,
        },
      },
    ]);
  });

  it('keeps the text written beside a call, and reads broken arguments as none', async () => {
    llm.respondOnce({
      text: 'Let me get someone.',
      toolCalls: [{ name: 'handoff', arguments: {}, rawArguments: '{"reason": "unterminated' }],
    });
    const result = await openai().complete(request);
    expect(result.text).toBe('Let me get someone.');
    expect(result.toolCalls).toMatchObject([{ name: 'handoff', arguments: {} }]);
  });

  it('sends no tools field when none are offered, and reports no tool calls', async () => {
    const result = await openai().complete({ messages: request.messages });
    expect(llm.requests[0]?.body).not.toHaveProperty('tools');
    expect(result.toolCalls).toBeUndefined();
  });
});

describe('Anthropic Messages tools', () => {
  it('sends the tool with input_schema and reads tool_use blocks', async () => {
    llm.respondOnce({ toolCalls: [{ name: 'handoff', arguments: { reason: 'refund' } }] });
    const result = await anthropic().complete(request);
    expect(result.text).toBe('');
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^toolu_/) as string, name: 'handoff', arguments: { reason: 'refund' } },
    ]);
    const sent = llm.requests[0];
    expect(sent?.protocol).toBe('anthropic');
    expect(sent?.tools).toEqual([
      { name: 'handoff', description: HANDOFF_TOOL.description, parameters: HANDOFF_TOOL.parameters },
    ]);
    expect((sent?.body as { tools: Array<{ input_schema: unknown }> }).tools[0]?.input_schema).toEqual(
      HANDOFF_TOOL.parameters,
    );
  });
});

describe('a model that refuses tools (Ollama: "does not support tools")', () => {
  it('is asked again without tools, then never offered them again; the refusal is logged once', async () => {
    const capture = captureLog('debug');
    const model = createChatModel(
      {
        provider: 'openai-compatible',
        apiKey: undefined,
        model: 'gemma:2b',
        baseUrl: llm.openaiBaseUrl,
        timeoutMs: 5000,
        temperature: 0.2,
        maxTokens: 100,
        systemPrompt: '',
      },
      { log: capture.log },
    );
    expect(model.supportsTools).toBe(true);
    llm.respond((req) =>
      req.tools.length > 0
        ? { status: 400, errorMessage: 'registry.ollama.ai/library/gemma:2b does not support tools' }
        : { text: 'plain answer' },
    );
    expect((await model.complete(request)).text).toBe('plain answer');
    expect((await model.complete(request)).text).toBe('plain answer');
    expect(llm.requests.map((r) => r.tools.length)).toEqual([1, 0, 0]);
    const warnings = capture.lines().filter((l) => l.msg?.includes('asked without tools'));
    expect(warnings).toHaveLength(1);
  });

  it('a bad request that is not about tools fails as such, and tools stay on offer', async () => {
    const model = createChatModel({
      provider: 'openai-compatible',
      apiKey: undefined,
      model: 'llama3.2',
      baseUrl: llm.openaiBaseUrl,
      timeoutMs: 5000,
      temperature: 0.2,
      maxTokens: 100,
      systemPrompt: '',
    });
    llm.respondOnce({ status: 400, errorMessage: 'context too long' });
    llm.respondOnce({ status: 400, errorMessage: 'context too long' });
    await expect(model.complete(request)).rejects.toMatchObject({ kind: 'ai_bad_request' });
    llm.respondOnce({ text: 'fine now' });
    await model.complete(request);
    expect(llm.requests.map((r) => r.tools.length)).toEqual([1, 0, 1]);
  });

  it('the offline model offers no tools', () => {
    const offline = createChatModel({
      provider: 'offline',
      apiKey: undefined,
      model: 'offline',
      baseUrl: undefined,
      timeoutMs: 5000,
      temperature: 0.2,
      maxTokens: 100,
      systemPrompt: '',
    });
    expect(offline.supportsTools).not.toBe(true);
  });
});
