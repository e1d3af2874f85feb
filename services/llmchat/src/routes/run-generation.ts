import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import {
  ApiError,
  errorCatalogue,
  type FastifyReply,
  type FastifyRequest,
  isApiError,
  startSpan,
} from 'hrserve';
import type { GenerationJob, GenerationResult, GenerationSink } from '../engine/types.js';
import { llmchatErrors } from '../errors.js';
import type { LlmchatMetrics } from '../metrics.js';
import type { ModelLease, ModelManager } from '../models/model-manager.js';
import { Admission } from './admission.js';
import { clientClosedRequest } from './client-closed.js';

export interface GenerationDeps {
  /** Models by name, loaded on demand. */
  models: ModelManager;
  metrics: LlmchatMetrics;
  generationTimeoutMs: number;
  tracer: Tracer;
}

/** How one response is delivered: as a stream of chunks or as one body. */
export interface Presenter<Body> {
  /** Called once a sequence is ours; a stream sends its headers and first chunk here. */
  start(): void;
  readonly sink: GenerationSink;
  finish(result: GenerationResult, queueMs: number): Body;
  /** After `start()` an error can only be told in-band (SSE `error` event). */
  fail(error: ApiError): void;
  readonly streaming: boolean;
}

export interface GenerationPlan {
  operation: 'chat' | 'text_completion';
  model: string;
  job: Omit<GenerationJob, 'signal'>;
  /** Request attributes for the span (GenAI conventions plus the platform's). */
  attributes: Attributes;
}

/**
 * Waiting for admission, generation, telemetry and cleanup for one completion,
 * shared by the chat, legacy completion and Ollama routes. The sequence's slot is released in
 * `finally`, so a client that disconnects (which aborts generation at the next
 * token) or an error never leaks one.
 */
export async function runGeneration<Body>(
  deps: GenerationDeps,
  lease: ModelLease,
  admission: Admission,
  request: FastifyRequest,
  plan: GenerationPlan,
  presenter: Presenter<Body>,
): Promise<Body | undefined> {
  const { disconnect } = admission;
  const labels = { gen_ai_request_model: plan.model, gen_ai_operation_name: plan.operation };
  const { tracer } = deps;

  return startSpan(
    tracer,
    `${plan.operation} ${plan.model}`,
    plan.attributes,
    async (span: Span) => {
      const admittedAt = performance.now();
      const slot = await startSpan(tracer, 'llmchat.queue_wait', {}, () => admission.slot);
      deps.metrics.queueWait.observe({ gen_ai_request_model: plan.model }, slot.waitedMs / 1000);
      span.setAttribute('llmchat.queue_wait_ms', slot.waitedMs);
      // LLMCHAT_GENERATION_TIMEOUT_MS bounds the generation, from admission on: the
      // queue wait has its own bound (LLMCHAT_QUEUE_TIMEOUT_MS).
      const timeout = AbortSignal.timeout(deps.generationTimeoutMs);
      const signal = AbortSignal.any([disconnect.signal, timeout]);
      let streamStarted = false;
      try {
        presenter.start();
        streamStarted = presenter.streaming;
        const generationStartedAt = Date.now();
        const result = await lease.engine.run({ ...plan.job, signal }, presenter.sink);
        if (timeout.aborted) {
          throw new ApiError(
            llmchatErrors.generationTimeout,
            `Generation exceeded ${deps.generationTimeoutMs} ms and was stopped. Ask for fewer tokens (max_tokens) or retry.`,
          );
        }
        record(deps.metrics, labels, span, result, generationStartedAt);
        deps.metrics.requestDuration.observe(
          { ...labels, error_type: '' },
          (performance.now() - admittedAt) / 1000,
        );
        if (disconnect.signal.aborted) {
          span.setAttribute('llmchat.client_disconnected', true);
          return undefined;
        }
        return presenter.finish(result, slot.waitedMs);
      } catch (error) {
        const apiError = isApiError(error)
          ? error
          : new ApiError(
              errorCatalogue.internal,
              'Generation failed. Retry the request; if it keeps failing, report its x-request-id.',
              { cause: error },
            );
        deps.metrics.requestDuration.observe(
          { ...labels, error_type: apiError.code },
          (performance.now() - admittedAt) / 1000,
        );
        if (!streamStarted) throw apiError;
        request.log.error({ err: error }, 'generation failed after the stream started');
        presenter.fail(apiError);
        return undefined;
      } finally {
        slot.release();
        admission.release();
      }
    },
  );
}

function record(
  metrics: LlmchatMetrics,
  labels: { gen_ai_request_model: string; gen_ai_operation_name: string },
  span: Span,
  result: GenerationResult,
  generationStartedAt: number,
): void {
  const { timings } = result;
  metrics.timeToFirstToken.observe(labels, timings.timeToFirstTokenMs / 1000);
  if (result.completionTokens > 1) {
    metrics.timePerOutputToken.observe(
      labels,
      timings.decodeMs / 1000 / (result.completionTokens - 1),
    );
  }
  const model = { gen_ai_request_model: labels.gen_ai_request_model };
  metrics.tokens.inc({ ...model, gen_ai_token_type: 'input' }, result.promptTokens);
  metrics.tokens.inc({ ...model, gen_ai_token_type: 'cached' }, timings.promptCached);
  metrics.tokens.inc({ ...model, gen_ai_token_type: 'output' }, result.completionTokens);

  if (result.completionTokens > 0) {
    span.addEvent('gen_ai.first_token', {}, generationStartedAt + timings.timeToFirstTokenMs);
  }
  span.setAttributes({
    'gen_ai.response.finish_reasons': [result.finishReason],
    'gen_ai.usage.input_tokens': result.promptTokens,
    'gen_ai.usage.output_tokens': result.completionTokens,
    'llmchat.prompt_cached_tokens': timings.promptCached,
    'llmchat.time_to_first_token_ms': timings.timeToFirstTokenMs,
  });
}

/**
 * Runs `answer` holding the named model and a place in its queue — taken
 * before the prompt is prepared, so an overload refusal is immediate — and
 * gives both back however it ends (the model may be unloaded by its
 * keep-alive only once no request uses it).
 */
export async function withModel<T>(
  deps: GenerationDeps,
  model: string,
  options: { keepAliveMs?: number },
  reply: FastifyReply,
  answer: (lease: ModelLease, admission: Admission) => Promise<T>,
): Promise<T> {
  const lease = await deps.models.acquire(model, options);
  let admission: Admission | undefined;
  try {
    admission = new Admission(lease.queue, reply);
    return await answer(lease, admission);
  } finally {
    admission?.release();
    lease.release();
  }
}

/** What the route returns: the reply a stream was already handed to, or the body; undefined means the client left. */
export function responseOf<Body>(
  reply: FastifyReply,
  streaming: boolean,
  answer: Body | undefined,
): Body | FastifyReply {
  if (streaming) return reply;
  if (answer === undefined) throw clientClosedRequest();
  return answer;
}
