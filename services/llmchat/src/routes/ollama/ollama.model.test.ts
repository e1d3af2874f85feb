import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, startLlmchat, type TestServer } from '../../__fixtures__/llmchat-server.js';

const SYNTH = 'synth-30M-q8_0';

/** The models the server has loaded now, per /api/ps. */
async function loadedNames(ollama: Ollama): Promise<string[]> {
  return (await ollama.ps()).models.map((model) => model.name).sort();
}

describe('the Ollama API with the official ollama client', () => {
  let server: TestServer;
  let ollama: Ollama;
  beforeAll(async () => {
    // stories260K as the default model "stories"; the models directory adds synth-30M-q8_0.
    server = await startLlmchat({ LLMCHAT_MODEL_ALIAS: 'stories', LLMCHAT_MODELS_DIR: MODELS_DIR });
    ollama = new Ollama({ host: server.url });
  });
  afterAll(() => server.close());

  it('chats, not streaming: the message, done_reason, counts and durations', async () => {
    const answer = await ollama.chat({
      model: 'stories',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      stream: false,
      options: { num_predict: 12, seed: 1, temperature: 0 },
    });
    expect(answer.model).toBe('stories');
    expect(answer.message.role).toBe('assistant');
    expect(answer.message.content.length).toBeGreaterThan(0);
    expect(answer.done).toBe(true);
    expect(['stop', 'length']).toContain(answer.done_reason);
    expect(answer.eval_count).toBeGreaterThan(0);
    expect(answer.eval_count).toBeLessThanOrEqual(12);
    expect(answer.prompt_eval_count).toBeGreaterThan(0);
    expect(answer.total_duration).toBeGreaterThan(0);
  });

  it('counts the whole prompt and, beside it, the cached part, as Ollama does: a repeated prompt reuses its cache', async () => {
    const ask = {
      model: 'stories',
      messages: [
        { role: 'system', content: 'A long shared preamble about a cat, a dog and a bird.' },
        { role: 'user', content: 'Tell me a story about them.' },
      ],
      stream: false as const,
      options: { num_predict: 4, seed: 1, temperature: 0 },
    };
    const first = await ollama.chat(ask);
    const again = await ollama.chat(ask);
    // Every prompt token but the last is reused the second time; the last is evaluated again.
    expect(first.prompt_eval_count).toBeGreaterThan(10);
    expect(again.prompt_eval_count).toBe(first.prompt_eval_count);
    const cached = (again as unknown as { prompt_eval_cached_count: number })
      .prompt_eval_cached_count;
    expect(cached).toBe(again.prompt_eval_count - 1);
  });

  it('chats, streaming: the pieces add up to the same answer, the last one done', async () => {
    const ask = {
      model: 'stories',
      messages: [{ role: 'user', content: 'The little dog' }],
      options: { num_predict: 16, seed: 3, temperature: 0 },
    };
    const whole = await ollama.chat({ ...ask, stream: false });
    let text = '';
    let last: { done: boolean; done_reason?: string; eval_count?: number } | undefined;
    for await (const part of await ollama.chat({ ...ask, stream: true })) {
      text += part.message.content;
      last = part;
    }
    expect(text).toBe(whole.message.content);
    expect(last?.done).toBe(true);
    expect(last?.eval_count).toBe(whole.eval_count);
  });

  it('generates, streaming and not, with num_predict and stop', async () => {
    const answer = await ollama.generate({
      model: 'stories',
      prompt: 'Once upon a time',
      stream: false,
      options: { num_predict: 8, temperature: 0 },
    });
    expect(answer.response?.length).toBeGreaterThan(0);
    expect(answer.done).toBe(true);
    expect(answer.eval_count).toBeLessThanOrEqual(8);

    let text = '';
    let done = false;
    for await (const part of await ollama.generate({
      model: 'stories',
      prompt: 'Once upon a time',
      stream: true,
      options: { num_predict: 8, temperature: 0 },
    })) {
      text += part.response;
      done = part.done;
    }
    expect(text).toBe(answer.response);
    expect(done).toBe(true);
  });

  it('lists models with size, family and quantization (tags), shows one, and reports the loaded ones (ps)', async () => {
    const { models } = await ollama.list();
    const byName = new Map(models.map((model) => [model.name, model]));
    expect(byName.get('stories')?.details.family).toBe('llama');
    expect(byName.get('stories')?.size).toBe(1185376);
    expect(byName.get(SYNTH)?.details.quantization_level).toBe('Q8_0');
    // stories260K.gguf is the default model's file: served once, as "stories".
    expect(byName.has('stories260K')).toBe(false);
    // Neither file has general.parameter_count: counted from the tensor shapes.
    expect(byName.get('stories')?.details.parameter_size).toMatch(/^2\d\d\.\dK$/);
    expect(byName.get(SYNTH)?.details.parameter_size).toMatch(/^2\d\.\dM$/);
    // The digest is the file's sha256, computed once in the background (empty until then).
    let digest = byName.get('stories')?.digest;
    for (let attempt = 0; attempt < 100 && !digest; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      digest = (await ollama.list()).models.find((model) => model.name === 'stories')?.digest;
    }
    expect(digest).toBe('270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d');

    const shown = await ollama.show({ model: 'stories' });
    // The client types model_info as a Map; on the wire (and here) it is a plain object.
    const info = shown.model_info as unknown as Record<string, unknown>;
    expect(info['general.architecture']).toBe('llama');
    expect(shown.details.format).toBe('gguf');
    expect(typeof shown.template).toBe('string');
    expect(shown.capabilities).toContain('completion');

    expect(await loadedNames(ollama)).toContain('stories');
  });

  it('follows format "json" and a JSON schema', async () => {
    const json = await ollama.chat({
      model: 'stories',
      messages: [{ role: 'user', content: 'A cat' }],
      format: 'json',
      stream: false,
      options: { num_predict: 300, seed: 2 },
    });
    // stories260K tends to write one endless JSON string; when it does close the value, it parses.
    expect(json.message.content.trimStart().startsWith('{')).toBe(true);
    if (json.done_reason === 'stop') expect(() => JSON.parse(json.message.content)).not.toThrow();

    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 12 },
        age: { type: 'integer', minimum: 1, maximum: 9 },
      },
      required: ['name', 'age'],
    };
    const shaped = await ollama.chat({
      model: 'stories',
      messages: [{ role: 'user', content: 'A cat' }],
      format: schema,
      stream: false,
      options: { num_predict: 64, seed: 2 },
    });
    expect(shaped.done_reason).toBe('stop');
    const value = JSON.parse(shaped.message.content) as { name: unknown; age: unknown };
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.age)).toBe(true);
  });

  it('calls tools, arguments as an object that fits the schema', async () => {
    const answer = await ollama.chat({
      model: 'stories',
      messages: [{ role: 'user', content: 'What is the weather in Paris? Call the tool.' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: {
              type: 'object',
              properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } },
              required: ['city'],
            },
          },
        },
      ],
      stream: false,
      options: { num_predict: 48, seed: 1 },
    });
    // The tiny model may answer in text or call; when it calls, the call is well formed.
    for (const call of answer.message.tool_calls ?? []) {
      expect(call.function.name).toBe('get_weather');
      expect(['Paris', 'Rome']).toContain((call.function.arguments as { city: string }).city);
    }
  });

  it('takes format and tools together, as Ollama does: the answer is a call or JSON text', async () => {
    const answer = await ollama.chat({
      model: 'stories',
      messages: [{ role: 'user', content: 'The weather in Paris?' }],
      format: { type: 'object', properties: { answer: { type: 'string', maxLength: 12 } } },
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: {
              type: 'object',
              properties: { city: { type: 'string', enum: ['Paris'] } },
            },
          },
        },
      ],
      stream: false,
      options: { num_predict: 60, seed: 4 },
    });
    const calls = answer.message.tool_calls ?? [];
    if (calls.length > 0) expect(calls[0]?.function.name).toBe('get_weather');
    else expect(answer.message.content.trimStart().startsWith('{')).toBe(true);
  });

  it('/api/generate returns context, and a prompt sent with it continues that conversation', async () => {
    const first = await ollama.generate({
      model: 'stories',
      prompt: 'Once upon a time',
      raw: true,
      stream: false,
      options: { num_predict: 6, seed: 1, temperature: 0 },
    });
    expect(first.context.length).toBeGreaterThan(6);
    const second = await ollama.generate({
      model: 'stories',
      prompt: ' and then',
      raw: true,
      context: first.context,
      stream: false,
      options: { num_predict: 4, seed: 1, temperature: 0 },
    });
    // Its prompt was the first exchange's tokens, then the new text: mostly reused from the cache.
    expect(second.context.slice(0, first.context.length)).toEqual(first.context);
    const cached = (second as unknown as { prompt_eval_cached_count: number })
      .prompt_eval_cached_count;
    expect(cached).toBeGreaterThan(first.context.length - 3);
  });

  it('a num_ctx smaller than the prompt cuts the prompt from the front and still answers', async () => {
    const answer = await ollama.generate({
      model: 'stories',
      prompt: 'The cat and the dog ran to the big tree by the sea and saw a bird sing.',
      raw: true,
      stream: false,
      options: { num_ctx: 12, num_predict: 4, seed: 1 },
    });
    // Used to answer 200 with nothing: no room was left for the answer.
    expect(answer.eval_count).toBeGreaterThan(0);
    expect((answer.response ?? '').length).toBeGreaterThan(0);
    expect(answer.context.length).toBeLessThanOrEqual(12);
  });

  it('a chat longer than num_ctx drops its oldest turns, keeps the system prompt, and answers', async () => {
    const long = 'The cat ran to the big tree by the sea and saw a bird sing a song. ';
    const answer = await ollama.chat({
      model: 'stories',
      messages: [
        { role: 'system', content: 'Tell short stories.' },
        { role: 'user', content: long.repeat(3) },
        { role: 'assistant', content: long.repeat(2) },
        { role: 'user', content: 'Once upon a time' },
      ],
      stream: false,
      options: { num_ctx: 64, num_predict: 4, seed: 1 },
    });
    expect(answer.eval_count).toBeGreaterThan(0);
    expect(answer.prompt_eval_count).toBeLessThan(64);
  });

  it.each([
    ['template', { template: '{{ .Prompt }}' }],
    ['suffix', { suffix: 'The end.' }],
    ['system', { raw: true, system: 'Be brief.' }],
  ])('refuses %s by name where it cannot be honoured', async (param, extra) => {
    const response = await fetch(`${server.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'stories', prompt: 'Once', stream: false, ...extra }),
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: string };
    expect(error).toContain(`'${param}'`);
  });

  it('serves two models at once, loading the second on demand', async () => {
    const [stories, synth] = await Promise.all([
      ollama.generate({
        model: 'stories',
        prompt: 'Once',
        stream: false,
        options: { num_predict: 8 },
      }),
      ollama.generate({ model: SYNTH, prompt: 'Once', stream: false, options: { num_predict: 8 } }),
    ]);
    expect(stories.eval_count).toBeGreaterThan(0);
    expect(synth.eval_count).toBe(8);
    expect(synth.load_duration).toBeGreaterThan(0);
    expect(await loadedNames(ollama)).toEqual(['stories', SYNTH].sort());
  });

  it('keep_alive 0 unloads the model once its request is done; an empty request loads it', async () => {
    await ollama.generate({
      model: SYNTH,
      prompt: 'Once',
      stream: false,
      keep_alive: 0,
      options: { num_predict: 4 },
    });
    expect(await loadedNames(ollama)).not.toContain(SYNTH);
    const loaded = await ollama.generate({ model: SYNTH, prompt: '', stream: false });
    expect(loaded.done_reason).toBe('load');
    expect(await loadedNames(ollama)).toContain(SYNTH);
    const unloaded = await ollama.generate({
      model: SYNTH,
      prompt: '',
      keep_alive: 0,
      stream: false,
    });
    expect(unloaded.done_reason).toBe('unload');
    expect(await loadedNames(ollama)).not.toContain(SYNTH);
  });

  it('answers errors as Ollama does: unknown models and paths outside the models directory are 404', async () => {
    for (const model of [
      'no-such-model',
      '../stories260K',
      '../../../../etc/passwd',
      `${MODELS_DIR}stories260K.gguf`,
    ]) {
      const response = await fetch(`${server.url}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: unknown };
      expect(typeof body.error).toBe('string');
      expect(body.error).toMatch(/does not exist/);
    }
    await expect(ollama.chat({ model: 'nope', messages: [] })).rejects.toMatchObject({
      status_code: 404,
    });
    const bad = await fetch(`${server.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'stories', prompt: 'x', keep_alive: 'soon' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/keep_alive/);
  });

  it('is found by a client probing /api/chat, then /api/generate, then /v1/chat/completions', async () => {
    const root = await fetch(server.url);
    expect(await root.text()).toBe('Ollama is running');
    expect((await fetch(server.url, { method: 'HEAD' })).status).toBe(200);
    expect(
      ((await (await fetch(`${server.url}/api/version`)).json()) as { version: string }).version,
    ).toMatch(/^\d+\.\d+\.\d+$/);

    const probes = [
      [
        'ollama-chat',
        '/api/chat',
        {
          model: 'stories',
          messages: [{ role: 'user', content: 'hi' }],
          stream: false,
          options: { num_predict: 1 },
        },
      ],
      [
        'ollama-generate',
        '/api/generate',
        { model: 'stories', prompt: 'hi', stream: false, options: { num_predict: 1 } },
      ],
      [
        'openai',
        '/v1/chat/completions',
        { model: 'stories', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 },
      ],
    ] as const;
    let found: string | undefined;
    for (const [kind, path, body] of probes) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      if (response.ok) {
        found = kind;
        break;
      }
    }
    expect(found).toBe('ollama-chat');
    const answer = await ollama.chat({
      model: 'stories',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: false,
      options: { num_predict: 4 },
    });
    expect(answer.done).toBe(true);
  });
});

describe('model lifecycle limits', () => {
  it('unloads the least recently used model when only one may be loaded', async () => {
    const server = await startLlmchat({
      LLMCHAT_MODELS_DIR: MODELS_DIR,
      LLMCHAT_MAX_LOADED_MODELS: '1',
    });
    try {
      const ollama = new Ollama({ host: server.url });
      const ask = (model: string) =>
        ollama.generate({ model, prompt: 'Once', stream: false, options: { num_predict: 4 } });
      expect(await loadedNames(ollama)).toEqual(['stories260K']);
      await ask(SYNTH);
      expect(await loadedNames(ollama)).toEqual([SYNTH]);
      await ask('stories260K');
      expect(await loadedNames(ollama)).toEqual(['stories260K']);
    } finally {
      await server.close();
    }
  });

  it('keeps loaded models within the memory budget, and refuses one that can never fit', async () => {
    // Learn both estimates first, with no budget.
    const probe = await startLlmchat({ LLMCHAT_MODELS_DIR: MODELS_DIR });
    let storiesBytes: number;
    let synthBytes: number;
    try {
      const ollama = new Ollama({ host: probe.url });
      await ollama.generate({ model: SYNTH, prompt: '', stream: false });
      const sizes = new Map((await ollama.ps()).models.map((model) => [model.name, model.size]));
      storiesBytes = sizes.get('stories260K') ?? 0;
      synthBytes = sizes.get(SYNTH) ?? 0;
    } finally {
      await probe.close();
    }
    expect(synthBytes).toBeGreaterThan(storiesBytes);
    const mib = (bytes: number) => Math.ceil(bytes / 1024 / 1024);

    // Room for either, not both: loading synth unloads the idle stories model.
    const both = await startLlmchat({
      LLMCHAT_MODELS_DIR: MODELS_DIR,
      LLMCHAT_MEMORY_BUDGET_MB: String(mib(synthBytes) + Math.floor(mib(storiesBytes) / 2)),
    });
    try {
      const ollama = new Ollama({ host: both.url });
      await ollama.generate({
        model: SYNTH,
        prompt: 'Once',
        stream: false,
        options: { num_predict: 2 },
      });
      expect(await loadedNames(ollama)).toEqual([SYNTH]);
    } finally {
      await both.close();
    }

    // Room for stories only: synth is refused with a clear error, stories keeps serving.
    const small = await startLlmchat({
      LLMCHAT_MODELS_DIR: MODELS_DIR,
      LLMCHAT_MEMORY_BUDGET_MB: String(mib(storiesBytes) + 1),
    });
    try {
      const refused = await small.openai.chat.completions
        .create({ model: SYNTH, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
        .catch((error: unknown) => error);
      expect(refused).toMatchObject({ status: 400, code: 'model_too_large' });
      expect(String((refused as Error).message)).toMatch(/over LLMCHAT_MEMORY_BUDGET_MB/);
      const ok = await small.openai.chat.completions.create({
        model: 'stories260K',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 2,
      });
      expect(ok.choices[0]?.finish_reason).toBeDefined();
    } finally {
      await small.close();
    }
  });

  it('a request for a model that is loading waits for it, and a loaded model is not held up meanwhile', async () => {
    const server = await startLlmchat({ LLMCHAT_MODELS_DIR: MODELS_DIR });
    try {
      const ollama = new Ollama({ host: server.url });
      const finished: string[] = [];
      const ask = (model: string, tag: string) =>
        ollama
          .generate({ model, prompt: 'Once', stream: false, options: { num_predict: 4 } })
          .then((answer) => {
            finished.push(tag);
            return answer;
          });
      const answers = await Promise.all([
        ask(SYNTH, 'synth-1'),
        ask(SYNTH, 'synth-2'),
        ask('stories260K', 'stories'),
      ]);
      expect(answers.every((answer) => answer.done)).toBe(true);
      // stories was loaded already: it answered while synth-30M was still loading.
      expect(finished[0]).toBe('stories');
      expect(await loadedNames(ollama)).toEqual(['stories260K', SYNTH].sort());
    } finally {
      await server.close();
    }
  });
});
