import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { startSpan } from 'hrserve';
import { GenerationTimeoutError, TooManyChoicesError } from '../engine/engine-errors.js';
import type { Priority } from '../engine/scheduler.js';
import { type GenerationEvent, type GenerationSink, SILENT_SINK } from '../engine/types.js';
import type { LlmchatMetrics } from '../metrics.js';
import type { ModelManager } from '../models/model-manager.js';
import { EventChannel } from './event-channel.js';
import type {
  FinishedGeneration,
  FinishedScoring,
  NativeChatRequest,
  NativeScoringRequest,
} from './native-request.js';
import { type ContextOverflow, jobOf } from './prepare-job.js';
import { scoringJobOf } from './prepare-scoring.js';
import { type Operation, recordGeneration, requestAttributes } from './telemetry.js';
import { timeLimit } from './time-limit.js';

export interface GeneratorOptions {
  /** One generation's time limit, from admission on (the queue wait has its own). */
  generationTimeoutMs: number;
  contextOverflow: ContextOverflow;
  /** The `error_type` label of a failed request's duration (the API error code it becomes). */
  errorType: (error: unknown) => string;
}

export interface SubmitOptions {
  /**
   * Aborting gives up the wait for the model's load (the load goes on for others), the
   * place in the queue, or stops the generation at the next token.
   */
  signal?: AbortSignal;
  /** `batch` for background work: it waits while interactive requests need the sequences. */
  priority?: Priority;
  /**
   * A batch job that may take every sequence of an idle server and gives one back to an
   * interactive job that finds none free: it then fails with `PreemptedError`, and its
   * caller (the batch runner) runs it again later. Only for work that can be run again.
   */
  preemptible?: boolean;
  /** Deliver the output as events while it is generated (else only `result`). */
  stream?: boolean;
  /** The GenAI operation (span name, metrics label). */
  operation: Operation;
  /** The caller's span attributes (protocol, response id, client_job_id…). */
  attributes?: Attributes;
}

/** A generation that holds a sequence: its output as events, then the result. */
export interface Generation {
  /** Output in order as it is generated (none unless `stream`); ends when generation ends. */
  events: AsyncIterable<GenerationEvent>;
  /** The prompt's tokens, counted once it is prepared (Anthropic's message_start tells them). */
  promptTokens: number;
  /** Resolves when generation ends (also when `signal` stopped it); rejects on failure or timeout. */
  result: Promise<FinishedGeneration>;
}

const NOTHING_SCORED = {
  logprobs: [],
  inputTokens: 0,
  cachedTokens: 0,
  evaluatedTokens: 0,
  scoreMs: 0,
};

/**
 * The one generation pipeline, for every protocol and for background work:
 * the model (loaded on demand), a place in its queue (taken before the prompt
 * is prepared, so an overload refusal is immediate), the job (prompt rendered
 * within the context, constraints compiled), the wait for a sequence, the
 * generation, telemetry, and one release of everything it held.
 */
export class Generator {
  constructor(
    private readonly models: ModelManager,
    private readonly metrics: LlmchatMetrics,
    private readonly tracer: Tracer,
    private readonly options: GeneratorOptions,
  ) {}

  /**
   * Resolves once the request holds a sequence (generation has started);
   * rejects before that with what stopped it: an unknown model, a full queue,
   * a prompt too long, an invalid schema, the signal's reason.
   */
  async submit(request: NativeChatRequest, options: SubmitOptions): Promise<Generation> {
    const [generation] = await this.submitChoices({ ...request, choices: 1 }, options);
    if (!generation) throw new Error('a submission without its generation');
    return generation;
  }

  /**
   * `request.choices` generations of the one prompt (n): the prompt is evaluated once and
   * its KV state copied to each choice's sequence; they generate together. Resolves once
   * they hold their sequences, as `submit` does.
   */
  submitChoices(request: NativeChatRequest, options: SubmitOptions): Promise<Generation[]> {
    const admitted = Promise.withResolvers<Array<Omit<Generation, 'result'>>>();
    const attributes = { ...requestAttributes(request, options.operation), ...options.attributes };
    const results = startSpan(
      this.tracer,
      `${options.operation} ${request.model}`,
      attributes,
      (span) => this.run(request, options, span, admitted.resolve),
    );
    // Before admission the failure is submit's; after it, each result's.
    results.catch(admitted.reject);
    return admitted.promise.then((generations) =>
      generations.map((generation, index) => {
        const result = results.then((finished) => {
          const one = finished[index];
          if (!one) throw new Error(`choice ${index} has no result`);
          return one;
        });
        // Every choice's result fails together; the caller may read only some of them.
        result.catch(() => {});
        return { ...generation, result };
      }),
    );
  }

  /** A request's duration from its reservation on, labelled with how it failed (if it did). */
  private observeDuration(
    labels: { gen_ai_request_model: string; gen_ai_operation_name: string },
    reservedAt: number,
    error?: unknown,
  ): void {
    this.metrics.requestDuration.observe(
      { ...labels, error_type: error === undefined ? '' : this.options.errorType(error) },
      (performance.now() - reservedAt) / 1000,
    );
  }

  /**
   * The model (a client that leaves while it loads stops waiting; the load goes on for
   * others) and a place in its queue: both released by the caller, in a `finally`.
   */
  private async hold(
    request: { model: string; keepAliveMs?: number },
    options: { signal?: AbortSignal; priority?: Priority; preemptible?: boolean; choices?: number },
  ) {
    const { signal } = options;
    const lease = await this.models.acquire(request.model, {
      ...(request.keepAliveMs !== undefined ? { keepAliveMs: request.keepAliveMs } : {}),
      ...(signal ? { signal } : {}),
    });
    const engine = lease.engine;
    try {
      signal?.throwIfAborted();
      const choices = options.choices ?? 1;
      // More choices than the model has sequences could never start.
      if (choices > engine.info.parallel)
        throw new TooManyChoicesError(choices, engine.info.parallel);
      const reservation = engine.reserve({
        priority: options.priority ?? 'interactive',
        signal,
        sequences: choices,
        preemptible: options.preemptible === true,
      });
      return { lease, engine, reservation };
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  /**
   * Weighs answers instead of generating (the Decisions API): the same model lease, queue,
   * time limit and request metrics as a generation, under a `decision` span.
   */
  score(
    request: NativeScoringRequest,
    options: { signal?: AbortSignal; priority?: Priority; attributes?: Attributes },
  ): Promise<FinishedScoring> {
    const attributes = {
      'gen_ai.operation.name': 'decision',
      'gen_ai.provider.name': 'llama.cpp',
      'gen_ai.request.model': request.model,
      'llmchat.questions': request.questions.length,
      ...options.attributes,
    };
    return startSpan(this.tracer, `decision ${request.model}`, attributes, async (span) => {
      const submittedAt = performance.now();
      const labels = { gen_ai_request_model: request.model, gen_ai_operation_name: 'decision' };
      if (request.questions.length === 0) {
        // Every question refused (an image in the input): nothing to weigh, no model to load.
        const entry = await this.models.entryOf(request.model);
        const timings = { loadMs: 0, queueMs: 0, totalMs: performance.now() - submittedAt };
        return { ...NOTHING_SCORED, modelId: entry.name, timings };
      }
      const { lease, engine, reservation } = await this.hold(request, options);
      try {
        const loadMs = performance.now() - submittedAt;
        const job = scoringJobOf(engine, request);
        const reservedAt = performance.now();
        const queueMs = await reservation.waitForTurn();
        options.signal?.throwIfAborted();
        this.metrics.queueWait.observe({ gen_ai_request_model: request.model }, queueMs / 1000);
        const limit = timeLimit(this.options.generationTimeoutMs, options.signal);
        try {
          const scored = await engine.score(reservation, job, limit.signal);
          const finished: FinishedScoring = {
            ...scored,
            modelId: engine.info.id,
            timings: { loadMs, queueMs, totalMs: performance.now() - submittedAt },
          };
          const model = { gen_ai_request_model: request.model };
          this.metrics.tokens.inc({ ...model, gen_ai_token_type: 'input' }, scored.inputTokens);
          this.metrics.tokens.inc({ ...model, gen_ai_token_type: 'cached' }, scored.cachedTokens);
          this.observeDuration(labels, reservedAt);
          span.setAttributes({
            'gen_ai.response.model': finished.modelId,
            'gen_ai.usage.input_tokens': scored.inputTokens,
            'gen_ai.usage.output_tokens': 0,
            'llmchat.prompt_cached_tokens': scored.cachedTokens,
            'llmchat.evaluated_tokens': scored.evaluatedTokens,
          });
          return finished;
        } catch (error) {
          const failure =
            limit.expired && !options.signal?.aborted
              ? new GenerationTimeoutError(this.options.generationTimeoutMs)
              : error;
          this.observeDuration(labels, reservedAt, failure);
          throw failure;
        } finally {
          limit.clear();
        }
      } finally {
        reservation.release();
        lease.release();
      }
    });
  }

  private async run(
    request: NativeChatRequest,
    options: SubmitOptions,
    span: Span,
    admit: (generations: Array<Omit<Generation, 'result'>>) => void,
  ): Promise<FinishedGeneration[]> {
    const submittedAt = performance.now();
    const { signal } = options;
    const labels = {
      gen_ai_request_model: request.model,
      gen_ai_operation_name: options.operation,
    };
    const choices = request.choices ?? 1;
    const { lease, engine, reservation } = await this.hold(request, { ...options, choices });
    try {
      const loadMs = performance.now() - submittedAt;
      const prepared = await engine.prepare(request, () =>
        jobOf(engine, request, request.contextOverflow ?? this.options.contextOverflow),
      );
      const reservedAt = performance.now();
      const queueMs = await startSpan(this.tracer, 'llmchat.queue_wait', {}, () =>
        reservation.waitForTurn(),
      );
      // A client that left while its prompt was prepared never starts decoding.
      signal?.throwIfAborted();
      reservation.preempted.throwIfAborted();
      this.metrics.queueWait.observe({ gen_ai_request_model: request.model }, queueMs / 1000);
      span.setAttribute('llmchat.queue_wait_ms', queueMs);

      const channels = Array.from({ length: choices }, () => new EventChannel<GenerationEvent>());
      const sinks = channels.map(
        (events): GenerationSink =>
          options.stream
            ? {
                text: (delta) => events.push({ type: 'text', delta }),
                logprob: (entry) => events.push({ type: 'logprobs', entries: [entry] }),
                toolCallStart: (index, call) =>
                  events.push({ type: 'tool_call_start', index, ...call }),
                toolCallArguments: (index, fragment) =>
                  events.push({ type: 'tool_call_arguments', index, fragment }),
              }
            : SILENT_SINK,
      );
      const promptTokens = prepared.job.promptTokens.length;
      admit(channels.map((events) => ({ events, promptTokens })));
      const limit = timeLimit(this.options.generationTimeoutMs, signal);
      // Stops at the next token for the client, the time limit, or a preemption.
      const stop = AbortSignal.any([limit.signal, reservation.preempted]);
      try {
        const generationStartedAt = Date.now();
        const generated =
          choices === 1 && sinks[0]
            ? [await engine.run(reservation, prepared, sinks[0], stop)]
            : await engine.runChoices(reservation, prepared, sinks, stop);
        // Preempted: the answer is cut, and not this job's; its runner runs it again.
        reservation.preempted.throwIfAborted();
        if (limit.expired) throw new GenerationTimeoutError(this.options.generationTimeoutMs);
        const finished = generated.map(
          (one): FinishedGeneration => ({
            ...one,
            modelId: engine.info.id,
            promptTokenIds: prepared.job.promptTokens,
            timings: {
              ...one.timings,
              loadMs,
              queueMs,
              totalMs: performance.now() - submittedAt,
            },
          }),
        );
        for (const one of finished) {
          recordGeneration(this.metrics, labels, span, one, generationStartedAt);
        }
        if (finished.length > 1) {
          // The span is the request's: every choice's output, not the last one's.
          span.setAttributes({
            'gen_ai.request.choice.count': finished.length,
            'gen_ai.response.finish_reasons': finished.map((one) => one.finishReason),
            'gen_ai.usage.output_tokens': finished.reduce(
              (sum, one) => sum + one.completionTokens,
              0,
            ),
          });
        }
        this.observeDuration(labels, reservedAt);
        if (signal?.aborted) span.setAttribute('llmchat.client_disconnected', true);
        return finished;
      } catch (error) {
        this.observeDuration(labels, reservedAt, error);
        throw error;
      } finally {
        limit.clear();
        for (const events of channels) events.end();
      }
    } finally {
      reservation.release();
      lease.release();
    }
  }
}
