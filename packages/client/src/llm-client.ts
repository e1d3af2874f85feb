import { context, propagation } from '@opentelemetry/api';
import { isConnectionError, LlmError, retryAfterMs } from './errors.js';
import { Limiter, LruCache } from './limiter.js';
import {
  type Answer,
  type ApiType,
  type Ask,
  type Message,
  PROBE_ORDER,
  protocols,
} from './protocols.js';

export interface LlmClientOptions {
  /** e.g. `serviceUrl('llmchat')` or `http://localhost:11434`. */
  baseUrl: string;
  /** The model to ask; `fallbackModels` are tried in order when the server lacks it. */
  model: string;
  fallbackModels?: string[];
  /** `auto` (default) probes Ollama chat, then Ollama generate, then OpenAI, once. */
  api?: ApiType | 'auto';
  /** Per call, including retries and a whole stream (default 120 s). */
  timeoutMs?: number;
  /** Retries of 429, 503 and connection failures (default 3), `Retry-After` honoured. */
  retries?: number;
  /** First backoff; doubles per retry, with jitter (default 250 ms). */
  retryDelayMs?: number;
  /** Calls in flight at once (default 4). */
  concurrency?: number;
  /** Cache this many answers to identical deterministic calls (temperature 0 or a seed); 0: off. */
  cacheSize?: number;
  /** Sent as `x-client-job-id` on every call. */
  clientJobId?: string;
  /** Sent as `traceparent`; by default the active OpenTelemetry context is propagated. */
  traceparent?: string;
  apiKey?: string;
  hooks?: {
    generating?(event: { model: string; messages: Message[]; api: ApiType }): void;
    generated?(event: {
      model: string;
      api: ApiType;
      text: string;
      ms: number;
      promptTokens?: number;
      completionTokens?: number;
    }): void;
  };
}

export interface CallOptions {
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
  signal?: AbortSignal;
  /** Overrides the client's model (and skips its fallbacks). */
  model?: string;
}

export interface Diagnosis {
  url: string;
  reachable: boolean;
  api?: ApiType;
  models: string[];
  latencyMs?: number;
  advice: string[];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * One client for any chat endpoint: llmchat, Ollama, or anything OpenAI-compatible.
 * It finds out which API the server speaks (or is told), and adds what a
 * service calling a model needs: timeouts, retries of what is retryable only,
 * model fallbacks, a concurrency limit, an answer cache, token counting,
 * diagnosis, hooks, and job/trace propagation.
 */
export class LlmClient {
  private readonly options: Required<
    Pick<LlmClientOptions, 'timeoutMs' | 'retries' | 'retryDelayMs' | 'fallbackModels'>
  > &
    LlmClientOptions;
  private api: Promise<ApiType> | undefined;
  private readonly limiter: Limiter;
  private readonly cache: LruCache<Answer> | undefined;

  constructor(options: LlmClientOptions) {
    this.options = {
      timeoutMs: 120_000,
      retries: 3,
      retryDelayMs: 250,
      fallbackModels: [],
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    if (options.api && options.api !== 'auto') this.api = Promise.resolve(options.api);
    this.limiter = new Limiter(options.concurrency ?? 4);
    this.cache = options.cacheSize ? new LruCache(options.cacheSize) : undefined;
  }

  /** The API the server speaks: probed once (Ollama chat → Ollama generate → OpenAI), then cached. */
  apiType(signal?: AbortSignal): Promise<ApiType> {
    this.api ??= this.probe(signal).catch((error: unknown) => {
      this.api = undefined; // a server that was down may be up next time
      throw error;
    });
    return this.api;
  }

  /** The whole answer to a conversation. */
  async chat(messages: Message[], options: CallOptions = {}): Promise<Answer & { model: string }> {
    return this.withModels(options, async (model, signal) => {
      const api = await this.apiType(signal);
      const ask = this.ask(model, messages, options);
      const key = this.cacheKey(api, ask);
      const cached = key ? this.cache?.get(key) : undefined;
      if (cached) return { ...cached, model };
      const release = await this.limiter.acquire();
      try {
        this.options.hooks?.generating?.({ model, messages, api });
        const startedAt = performance.now();
        const response = await this.post(
          protocols[api].path,
          protocols[api].body(ask, false),
          signal,
        );
        const answer = protocols[api].answer(await response.json());
        this.options.hooks?.generated?.({
          model,
          api,
          ms: performance.now() - startedAt,
          ...answer,
        });
        if (key) this.cache?.set(key, answer);
        return { ...answer, model };
      } finally {
        release();
      }
    });
  }

  /** A completion of one prompt (Ollama generate when that is the API, else a one-message chat). */
  generate(prompt: string, options: CallOptions = {}): Promise<Answer & { model: string }> {
    return this.chat([{ role: 'user', content: prompt }], options);
  }

  /**
   * The answer as it is generated, as text deltas. Abort with `options.signal`
   * (the server stops generating when the connection closes).
   */
  async *stream(messages: Message[], options: CallOptions = {}): AsyncGenerator<string, void> {
    const signal = this.signalFor(options.signal);
    const release = await this.limiter.acquire();
    try {
      const { response, api, model } = await this.withModels(
        options,
        async (candidate, attemptSignal) => {
          const type = await this.apiType(attemptSignal);
          const ask = this.ask(candidate, messages, options);
          this.options.hooks?.generating?.({ model: candidate, messages, api: type });
          return {
            response: await this.post(
              protocols[type].path,
              protocols[type].body(ask, true),
              attemptSignal,
            ),
            api: type,
            model: candidate,
          };
        },
        signal,
      );
      const startedAt = performance.now();
      let text = '';
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(bytes, { stream: true });
        let end = buffered.indexOf('\n');
        while (end >= 0) {
          const line = buffered.slice(0, end).trim();
          buffered = buffered.slice(end + 1);
          end = buffered.indexOf('\n');
          if (!line) continue;
          // Lines already received are not handed out after an abort.
          if (signal.aborted) {
            throw new LlmError('The stream was aborted or timed out.', {
              retryable: false,
              cause: signal.reason,
            });
          }
          const error = /^\{"error"|^data: \{"error"/.test(line) ? line : undefined;
          if (error)
            throw new LlmError(`The server failed mid-answer: ${error}`, { retryable: false });
          const piece = protocols[api].line(line);
          if (piece?.text) {
            text += piece.text;
            yield piece.text;
          }
          if (piece?.done) {
            this.options.hooks?.generated?.({
              model,
              api,
              text,
              ms: performance.now() - startedAt,
            });
            return;
          }
        }
      }
      this.options.hooks?.generated?.({ model, api, text, ms: performance.now() - startedAt });
    } finally {
      release();
    }
  }

  /** Tokens of `text` by the server's tokenizer (`/tokenize`), or an estimate (4 characters a token) without one. */
  async countTokens(text: string): Promise<{ tokens: number; estimated: boolean }> {
    try {
      const response = await this.post(
        '/tokenize',
        { content: text, model: this.options.model },
        this.signalFor(undefined),
        false,
      );
      const body = (await response.json()) as { tokens?: unknown[] };
      if (Array.isArray(body.tokens)) return { tokens: body.tokens.length, estimated: false };
    } catch {
      // No tokenizer endpoint (Ollama, most OpenAI servers): estimate.
    }
    return { tokens: Math.ceil(text.length / 4), estimated: true };
  }

  /** Whether the server answers at all. */
  async checkConnection(): Promise<boolean> {
    try {
      await fetch(`${this.options.baseUrl}/`, { signal: AbortSignal.timeout(5000) });
      return true;
    } catch {
      return false;
    }
  }

  /** Reachability, API, models and latency, with advice for whatever failed. */
  async diagnose(): Promise<Diagnosis> {
    const url = this.options.baseUrl;
    const startedAt = performance.now();
    const result: Diagnosis = { url, reachable: false, models: [], advice: [] };
    if (!(await this.checkConnection())) {
      result.advice.push(
        `Nothing answers at ${url}. Start the service (for llmchat: \`./pnpm start\` in the checkout, or \`systemctl --user start llmchat\`), or check the URL and port (\`./pnpm exec just port llmchat\`).`,
      );
      return result;
    }
    result.reachable = true;
    result.latencyMs = performance.now() - startedAt;
    try {
      result.api = await this.apiType();
    } catch (error) {
      result.advice.push(
        `The server answers but speaks neither the Ollama nor the OpenAI chat API (${error instanceof Error ? error.message : String(error)}). Is the URL the API's root, without /v1?`,
      );
    }
    let refused = false;
    for (const path of ['/api/tags', '/v1/models']) {
      try {
        const response = await fetch(`${url}${path}`, {
          headers: this.headers(),
          signal: AbortSignal.timeout(5000),
        });
        refused ||= response.status === 401 || response.status === 403;
        if (!response.ok) continue;
        const body = (await response.json()) as {
          models?: Array<{ name: string }>;
          data?: Array<{ id: string }>;
        };
        result.models =
          body.models?.map((model) => model.name) ?? body.data?.map((model) => model.id) ?? [];
        break;
      } catch {
        // try the other listing
      }
    }
    if (refused && result.models.length === 0) {
      result.advice.push(
        this.options.apiKey
          ? `${url} refused the API key given (401): check it against the service's API_KEYS.`
          : `${url} wants an API key (401: the service's API_KEYS is set). Give one (hrchat: --api-key or HRSERVE_API_KEY).`,
      );
    }
    const wanted = [this.options.model, ...this.options.fallbackModels];
    if (result.models.length > 0 && !wanted.some((model) => result.models.includes(model))) {
      result.advice.push(
        `The server does not list ${wanted.join(' or ')}; it has: ${result.models.join(', ')}. Set the model to one of those.`,
      );
    }
    return result;
  }

  private ask(model: string, messages: Message[], options: CallOptions): Ask {
    return {
      model,
      messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.stop ? { stop: options.stop } : {}),
    };
  }

  /** Only deterministic calls are cached: temperature 0, or a seed. */
  private cacheKey(api: ApiType, ask: Ask): string | undefined {
    if (!this.cache || (ask.temperature !== 0 && ask.seed === undefined)) return undefined;
    return JSON.stringify([this.options.baseUrl, api, ask]);
  }

  /** Runs `attempt` with the model, then each fallback while the server lacks the model. */
  private async withModels<T>(
    options: CallOptions,
    attempt: (model: string, signal: AbortSignal) => Promise<T>,
    signal = this.signalFor(options.signal),
  ): Promise<T> {
    const models = options.model
      ? [options.model]
      : [this.options.model, ...this.options.fallbackModels];
    let lastError: unknown;
    for (const model of models) {
      try {
        return await attempt(model, signal);
      } catch (error) {
        lastError = error;
        if (
          !(
            error instanceof LlmError &&
            (error.modelMissing || error.details.code === 'model_unavailable')
          )
        ) {
          throw error;
        }
      }
    }
    throw lastError;
  }

  private signalFor(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.clientJobId) headers['x-client-job-id'] = this.options.clientJobId;
    if (this.options.traceparent) headers.traceparent = this.options.traceparent;
    else propagation.inject(context.active(), headers);
    return headers;
  }

  /** POST with retries of 429/503/connection failures (honouring Retry-After); other failures throw at once. */
  private async post(
    path: string,
    body: unknown,
    signal: AbortSignal,
    retry = true,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let failure: LlmError;
      try {
        const response = await fetch(`${this.options.baseUrl}${path}`, {
          method: 'POST',
          headers: this.headers(),
          body: JSON.stringify(body),
          signal,
        });
        if (response.ok) return response;
        failure = await errorOf(response);
      } catch (error) {
        if (signal.aborted) {
          throw new LlmError(
            `The call to ${this.options.baseUrl}${path} was aborted or timed out.`,
            {
              retryable: false,
              cause: signal.reason ?? error,
            },
          );
        }
        failure = isConnectionError(error)
          ? new LlmError(`Cannot connect to ${this.options.baseUrl}: is the service running?`, {
              retryable: true,
              cause: error,
            })
          : new LlmError(`The call to ${this.options.baseUrl}${path} failed: ${String(error)}`, {
              retryable: false,
              cause: error,
            });
      }
      if (!retry || !failure.details.retryable || attempt >= this.options.retries) throw failure;
      const backoff = this.options.retryDelayMs * 2 ** attempt * (0.5 + Math.random());
      await sleep(failure.details.retryAfterMs ?? backoff, signal);
    }
  }

  private async probe(signal?: AbortSignal): Promise<ApiType> {
    const probeSignal = signal ?? this.signalFor(undefined);
    const ask: Ask = {
      model: this.options.model,
      messages: [{ role: 'user', content: 'hi' }],
      maxTokens: 1,
    };
    const refused: string[] = [];
    for (const api of PROBE_ORDER) {
      try {
        await this.post(protocols[api].path, protocols[api].body(ask, false), probeSignal);
        return api;
      } catch (error) {
        // The route exists when the server only objects to the model or the load.
        if (
          error instanceof LlmError &&
          error.status !== undefined &&
          error.status !== 404 &&
          error.status !== 405
        )
          return api;
        if (error instanceof LlmError && error.modelMissing) return api;
        if (error instanceof LlmError && error.status === undefined) throw error;
        refused.push(
          `${protocols[api].path}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    throw new LlmError(`No chat API found at ${this.options.baseUrl} (${refused.join('; ')}).`, {
      retryable: false,
    });
  }
}

/** An error response as an LlmError: status, the server's message and code, retryability, Retry-After. */
async function errorOf(response: Response): Promise<LlmError> {
  const text = await response.text();
  let message = text.slice(0, 500);
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: string | { message?: string; code?: string } };
    if (typeof body.error === 'string') message = body.error;
    else if (body.error?.message) {
      message = body.error.message;
      code = body.error.code;
    }
  } catch {
    // not JSON: keep the text
  }
  const retryAfter = retryAfterMs(response.headers.get('retry-after'));
  return new LlmError(`HTTP ${response.status}: ${message}`, {
    status: response.status,
    ...(code ? { code } : {}),
    retryable: response.status === 429 || response.status === 503,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  });
}
