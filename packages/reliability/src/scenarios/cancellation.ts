import {
  health,
  MODEL,
  MODELS_DIR,
  metric,
  modelLog,
  type ScenarioResult,
  startLlmchat,
  within,
} from '../target.js';

const OTHER_MODEL = 'synth-100M-q8_0';

const chat = (url: string, body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Once upon a time' }], ...body }),
    ...(signal ? { signal } : {}),
  });

const outputTokens = (url: string, model: string) =>
  metric(url, 'gen_ai_server_token_usage_total', {
    gen_ai_request_model: model,
    gen_ai_token_type: 'output',
  });

/**
 * Issue 17, item 1: a client that hangs up while its model loads, and a request
 * whose queue deadline passes while it waits, are never decoded; the load goes
 * on, and the next request for that model is answered.
 */
export async function cancellationScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const figures: Record<string, string | number> = {};
  const service = await startLlmchat({
    LLMCHAT_MODELS_DIR: MODELS_DIR,
    LLMCHAT_PARALLEL: '1',
    LLMCHAT_QUEUE_TIMEOUT_MS: '100',
  });
  try {
    // 1. Hang up 20 ms into the load of a model not loaded yet.
    const controller = new AbortController();
    const abandoned = chat(
      service.url,
      { model: OTHER_MODEL, max_tokens: 64, ignore_eos: true, stream: true },
      controller.signal,
    ).catch(() => undefined);
    const loaded = modelLog(service, 'model loaded', OTHER_MODEL).catch(() => undefined);
    await modelLog(service, 'loading model', OTHER_MODEL, 30_000);
    controller.abort();
    const hungUpAt = Date.now();
    await abandoned;
    const load = await loaded;
    figures['client hung up, ms before the load finished'] = Number(load?.time) - hungUpAt;
    if (!load) failures.push('the load stopped with the client: the next one would start over');
    else if (Number(load.time) <= hungUpAt)
      failures.push('the model loaded before the client hung up: nothing was tested');
    const idle = await within(async () => (await health(service.url)).queue.running === 0, 2000);
    const decodedForNobody = await outputTokens(service.url, OTHER_MODEL);
    figures['tokens decoded for the client that left'] = decodedForNobody;
    if (decodedForNobody > 0) failures.push(`${decodedForNobody} tokens decoded for nobody`);
    if (idle === undefined) failures.push('a sequence still busy 2 s after the client left');
    const next = await chat(service.url, { model: OTHER_MODEL, max_tokens: 4 });
    figures['next request for that model'] = next.status;
    if (next.status !== 200) failures.push(`the next request got ${next.status}`);
    await next.arrayBuffer();

    // 2. One sequence, held by a long answer; a second request's queue deadline passes.
    const model = MODEL;
    const before = await outputTokens(service.url, model);
    const long = chat(service.url, { model, max_tokens: 3000, ignore_eos: true });
    if (
      (await within(async () => (await health(service.url)).queue.running === 1, 5000)) ===
      undefined
    )
      failures.push('the long answer never started');
    const waiting = await chat(service.url, { model, max_tokens: 64, ignore_eos: true });
    figures['request past its queue deadline (100 ms)'] = waiting.status;
    if (waiting.status !== 503) failures.push(`the waiting request got ${waiting.status}, not 503`);
    await waiting.arrayBuffer();
    const longAnswer = await long;
    const longBody = (await longAnswer.json()) as { usage?: { completion_tokens: number } };
    const decoded = (await outputTokens(service.url, model)) - before;
    figures['tokens decoded meanwhile / tokens of the long answer'] =
      `${decoded} / ${longBody.usage?.completion_tokens}`;
    if (decoded !== longBody.usage?.completion_tokens)
      failures.push(
        `${decoded} tokens decoded, the long answer has ${longBody.usage?.completion_tokens}: the timed-out request decoded`,
      );
  } finally {
    await service.stop();
  }
  return {
    name: 'cancellation: a client gone during the load, a deadline passed in the queue',
    figures,
    failures,
  };
}
