import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmchat, type TestServer } from '../__fixtures__/llmchat-server.js';

const model = 'stories260K';

async function post(
  server: TestServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { error: Record<string, unknown> },
  };
}

describe('llmchat errors, in the OpenAI shape', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({ LLMCHAT_CONTEXT_SIZE: '256' });
  });
  afterAll(() => server.close());

  it('a prompt longer than the context → 400 context_length_exceeded naming both sizes', async () => {
    const error = await server.openai.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'the cat sat on the mat '.repeat(80) }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.code).toBe('context_length_exceeded');
    expect(apiError.message).toMatch(
      /maximum context length is 256 tokens, but the prompt has \d+ tokens/,
    );
  });

  it('an unknown model → 404 model_not_found', async () => {
    const error = await server.openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    await expect(server.openai.models.retrieve('gpt-4o')).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });

  it.each([
    ['temperature', { temperature: 5 }, 'temperature'],
    ['top_p', { top_p: 0 }, 'top_p'],
    ['max_tokens', { max_tokens: -1 }, 'max_tokens'],
    ['n over 128', { n: 1000 }, 'n'],
    ['n over the sequences (LLMCHAT_PARALLEL)', { n: 100 }, 'n'],
    ['top_logprobs', { logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
    ['an unknown role', { messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role'],
    ['empty messages', { messages: [] }, 'messages'],
    [
      'image content',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      'messages.0.content.0',
    ],
    ['a stop list too long', { stop: Array.from({ length: 20 }, (_, i) => `s${i}`) }, 'stop'],
    ['tool_choice without tools', { tool_choice: 'required' }, 'tool_choice'],
    [
      'an unknown named tool',
      {
        tools: [{ type: 'function', function: { name: 'a' } }],
        tool_choice: { type: 'function', function: { name: 'b' } },
      },
      'tool_choice',
    ],
    [
      'a bad tool name',
      { tools: [{ type: 'function', function: { name: 'no spaces allowed' } }] },
      'tools.0.function.name',
    ],
    ['a missing model', { model: undefined }, 'model'],
  ])('an invalid %s → 400 naming it', async (_label, patch, param) => {
    const { status, body } = await post(server, '/v1/chat/completions', {
      model,
      messages: [{ role: 'user', content: 'hi' }],
      ...patch,
    });
    expect(status).toBe(400);
    expect(body.error.param).toBe(param);
    expect(body.error.type).toBe('invalid_request_error');
    expect(String(body.error.message).length).toBeGreaterThan(10);
  });

  it.each([
    ['an unknown type', { type: 'object', properties: { a: { type: 'strnig' } } }],
    ['an unresolvable $ref', { type: 'object', properties: { a: { $ref: '#/nowhere' } } }],
    ['a malformed oneOf', { oneOf: 'x' }],
    [
      'a $ref to a missing definition',
      { type: 'object', $defs: {}, properties: { a: { $ref: '#/$defs/Missing' } } },
    ],
    ['a pattern that is no regular expression', { type: 'string', pattern: '(' }],
    [
      'a $ref that is no JSON pointer',
      { type: 'object', properties: { a: { $ref: '#/$defs/%' } } },
    ],
    [
      'a $ref that cannot be followed, where the translation does not look',
      { type: 'array', items: [{ $ref: '#/properties/x' }] },
    ],
  ])('a tool schema with %s → 400 naming the schema', async (_label, parameters) => {
    const { status, body } = await post(server, '/v1/chat/completions', {
      model,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters } }],
      tool_choice: 'required',
    });
    expect(status).toBe(400);
    expect(body.error.param).toBe('tools.0.function.parameters');
    expect(body.error.code).toBe('invalid_schema');
  });

  it('a tool schema 10,000 levels deep → 400 naming the limit and the field, not a stack overflow', async () => {
    // Written as text: JSON.stringify itself overflows the stack on a value this deep.
    const depth = 10_000;
    const deep = `${'{"type":"object","properties":{"a":'.repeat(depth)}{"type":"string"}${'}}'.repeat(depth)}`;
    const { status, body } = await post(
      server,
      '/v1/chat/completions',
      `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
    );
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: 'invalid_schema',
      param: 'tools.0.function.parameters',
    });
    expect(body.error.message).toContain('deeper than 64 levels');
    expect(body.error.message).not.toContain('call stack');
  });

  it('a broken response_format schema → 400 naming it', async () => {
    const { status, body } = await post(server, '/v1/chat/completions', {
      model,
      messages: [{ role: 'user', content: 'hi' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'x', schema: { type: 'objekt' } },
      },
    });
    expect(status).toBe(400);
    expect(body.error.param).toBe('response_format.json_schema.schema');
  });

  it('malformed JSON and an invalid client_job_id are 400s before any work', async () => {
    const broken = await post(
      server,
      '/v1/chat/completions',
      '{"model": "stories260K", "messages": [',
    );
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_json');
    const badJob = await post(server, '/v1/chat/completions?client_job_id=not%20ok', {
      model,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(badJob.status).toBe(400);
    expect(badJob.body.error.code).toBe('invalid_client_job_id');
  });

  it('a valid client_job_id is echoed', async () => {
    const { response } = await server.openai.chat.completions
      .create(
        { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 },
        { headers: { 'X-Client-Job-ID': 'batch-7' } },
      )
      .withResponse();
    expect(response.headers.get('x-client-job-id')).toBe('batch-7');
  });
});

describe('with truncation configured', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startLlmchat({
      LLMCHAT_CONTEXT_SIZE: '256',
      LLMCHAT_CONTEXT_OVERFLOW: 'truncate',
    });
  });
  afterAll(() => server.close());

  it('drops the oldest turns, keeps the system prompt and answers', async () => {
    const turns = Array.from({ length: 12 }, (_, index) => ({
      role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `turn ${index}: the little dog ran in the park with a ball`,
    }));
    const completion = await server.openai.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'Tell a story.' },
        ...turns,
        { role: 'user', content: 'And then?' },
      ],
      max_tokens: 8,
    });
    expect(completion.usage?.prompt_tokens).toBeLessThan(256);
    expect(completion.choices[0]?.message.content).toBeTypeOf('string');
  });
});
