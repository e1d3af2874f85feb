import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { startSpan } from 'hrserve';
import { GenerationTimeoutError } from '../engine/engine-errors.js';
import type { Priority } from '../engine/scheduler.js';
import type { GenerationEvent, GenerationSink } from '../engine/types.js';
import type { LlmchatMetrics } from '../metrics.js';
import type { ModelManager } from '../models/model-manager.js';
import { EventChannel } from './event-channel.js';
import type { FinishedGeneration, NativeChatRequest } from './native-request.js';
import { type ContextOverflow, jobOf } from './prepare-job.js';
import { type Operation, recordGeneration, requestAttributes } from './telemetry.js';

export interface GeneratorOptions {
  /** One generation's time limit, from admission on (the queue wait has its own). */
  generationTimeoutMs: number;
  contextOverflow: ContextOverflow;
}

export interface SubmitOptions {
  /** Aborting gives up the model load's result, the place in the queue, or the generation (at the next token). */
  signal?: AbortSignal;
  priority?: Priority;
  /** Deliver the output as events while it is generated (else only `result`). */
  stream?: boolean;
  /** The GenAI operation (span name, metrics label). */
  operation: Operation;
  /** The caller's span attributes (protocol, response id, client_job_id…). */
  attributes?: Attributes;
}

/** A generation that holds a sequence: its output as events, then the result. */
export interface Generation {
  /** The model's id (its name, even when the request used an alias). */
  modelId: string;
  /** Output in order as it is generated (empty unless `stream`); ends when generation ends. */
  events: AsyncIterable<GenerationEvent>;
  /** Resolves when generation ends (also when `signal` stopped it); rejects on failure or timeout. */
  result: Promise<FinishedGeneration>;
}

const NO_OUTPUT: GenerationSink = {
  text: () => {},
  toolCallStart: () => {},
  toolCallArguments: () => {},
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
  submit(request: NativeChatRequest, options: SubmitOptions): Promise<Generation> {
    const admitted = Promise.withResolvers<Omit<Generation, 'result'>>();
    const attributes = { ...requestAttributes(request, options.operation), ...options.attributes };
    const result = startSpan(
      this.tracer,
      `${options.operation} ${request.model}`,
      attributes,
      (span) => this.run(request, options, span, admitted.resolve),
    );
    // Before admission the failure is submit's; after it, result's (a no-op here).
    result.catch(admitted.reject);
    return admitted.promise.then((generation) => ({ ...generation, result }));
  }

  private async run(
    request: NativeChatRequest,
    options: SubmitOptions,
    span: Span,
    admit: (generation: Omit<Generation, 'result'>) => void,
  ): Promise<FinishedGeneration> {
    const submittedAt = performance.now();
    const { signal } = options;
    const labels = {
      gen_ai_request_model: request.model,
      gen_ai_operation_name: options.operation,
    };
    const lease = await this.models.acquire(
      request.model,
      request.keepAliveMs !== undefined ? { keepAliveMs: request.keepAliveMs } : {},
    );
    const engine = lease.engine;
    const reservation = (() => {
      try {
        signal?.throwIfAborted();
        return engine.reserve({ priority: options.priority ?? 'interactive', signal });
      } catch (error) {
        lease.release();
        throw error;
      }
    })();
    try {
      const loadMs = performance.now() - submittedAt;
      const prepared = await engine.prepare(request, () =>
        jobOf(engine, request, this.options.contextOverflow),
      );
      const reservedAt = performance.now();
      const queueMs = await startSpan(this.tracer, 'llmchat.queue_wait', {}, () =>
        reservation.waitForTurn(),
      );
      this.metrics.queueWait.observe({ gen_ai_request_model: request.model }, queueMs / 1000);
      span.setAttribute('llmchat.queue_wait_ms', queueMs);

      const timeout = AbortSignal.timeout(this.options.generationTimeoutMs);
      const generationSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
      const events = options.stream ? new EventChannel<GenerationEvent>() : undefined;
      const sink: GenerationSink = events
        ? {
            text: (delta) => events.push({ type: 'text', delta }),
            toolCallStart: (index, call) =>
              events.push({ type: 'tool_call_start', index, ...call }),
            toolCallArguments: (index, fragment) =>
              events.push({ type: 'tool_call_arguments', index, fragment }),
          }
        : NO_OUTPUT;
      admit({ modelId: engine.info.id, events: events ?? new EventChannel() });
      try {
        const generationStartedAt = Date.now();
        const generated = await engine.run(reservation, prepared, sink, generationSignal);
        if (timeout.aborted) throw new GenerationTimeoutError(this.options.generationTimeoutMs);
        const finished: FinishedGeneration = {
          ...generated,
          modelId: engine.info.id,
          timings: {
            ...generated.timings,
            loadMs,
            queueMs,
            totalMs: performance.now() - submittedAt,
          },
        };
        recordGeneration(this.metrics, labels, span, finished, generationStartedAt);
        this.metrics.requestDuration.observe(
          { ...labels, error_type: '' },
          (performance.now() - reservedAt) / 1000,
        );
        if (signal?.aborted) span.setAttribute('llmchat.client_disconnected', true);
        return finished;
      } catch (error) {
        this.metrics.requestDuration.observe(
          { ...labels, error_type: errorType(error) },
          (performance.now() - reservedAt) / 1000,
        );
        throw error;
      } finally {
        events?.end();
      }
    } finally {
      reservation.release();
      lease.release();
    }
  }
}

/** The metrics' error_type: the error's class name (stable, low cardinality). */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown';
}
