import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ModelState } from './models/model-manager.js';

/**
 * Seconds; from sub-millisecond tokens to whole generations, which may run for
 * LLMCHAT_GENERATION_TIMEOUT_MS (600 s by default): past the last bucket a
 * duration only shows in +Inf.
 */
const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
  1200,
];

/**
 * The OpenTelemetry GenAI server metrics (names as the semantic conventions
 * give them, in Prometheus form) plus token counters and the queue's state.
 * https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/
 */
export class LlmchatMetrics {
  readonly timeToFirstToken: Histogram<'gen_ai_request_model' | 'gen_ai_operation_name'>;
  readonly timePerOutputToken: Histogram<'gen_ai_request_model' | 'gen_ai_operation_name'>;
  readonly requestDuration: Histogram<
    'gen_ai_request_model' | 'gen_ai_operation_name' | 'error_type'
  >;
  readonly tokens: Counter<'gen_ai_request_model' | 'gen_ai_token_type'>;
  readonly queueWait: Histogram<'gen_ai_request_model'>;

  constructor(
    registry: Registry,
    queues: () => { running: number; waiting: number; rejected: number },
    models: () => readonly ModelState[] = () => [],
  ) {
    const registers = [registry];
    this.timeToFirstToken = new Histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time from the start of generation (after queueing) to the first output token.',
      labelNames: ['gen_ai_request_model', 'gen_ai_operation_name'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.timePerOutputToken = new Histogram({
      name: 'gen_ai_server_time_per_output_token_seconds',
      help: 'Decode time per output token after the first.',
      labelNames: ['gen_ai_request_model', 'gen_ai_operation_name'],
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      ],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'gen_ai_server_request_duration_seconds',
      help: 'Time from request admission to the last output token, queueing included.',
      labelNames: ['gen_ai_request_model', 'gen_ai_operation_name', 'error_type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'gen_ai_server_token_usage_total',
      help: 'Tokens processed: input (prompt, cached ones included), cached (input reused from the KV cache) and output.',
      labelNames: ['gen_ai_request_model', 'gen_ai_token_type'],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'llmchat_queue_wait_seconds',
      help: 'Time requests waited for a free sequence.',
      labelNames: ['gen_ai_request_model'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'llmchat_requests_running',
      help: 'Requests generating now (one sequence each), over every loaded model.',
      registers,
      collect() {
        this.set(queues().running);
      },
    });
    new Gauge({
      name: 'llmchat_requests_waiting',
      help: 'Requests waiting for a free sequence.',
      registers,
      collect() {
        this.set(queues().waiting);
      },
    });
    // Per loaded model, as load-aware routers read them (e.g. Kubernetes' inference gateway:
    // requests waiting and running, KV-cache utilisation), and which models are loaded.
    const perModel = (
      name: string,
      help: string,
      value: (state: ModelState) => number,
    ): Gauge<'gen_ai_request_model'> =>
      new Gauge({
        name,
        help,
        labelNames: ['gen_ai_request_model'],
        registers,
        collect() {
          this.reset();
          for (const state of models())
            this.set({ gen_ai_request_model: state.model }, value(state));
        },
      });
    perModel('llmchat_model_loaded', 'Models loaded now (1 each).', () => 1);
    perModel(
      'llmchat_model_requests_running',
      'Requests generating now on this model.',
      (state) => state.running,
    );
    perModel(
      'llmchat_model_requests_waiting',
      'Requests waiting for a sequence of this model.',
      (state) => state.waiting,
    );
    perModel(
      'llmchat_kv_cache_usage_ratio',
      "Share of this model's KV cache (every sequence's context) held by running requests, 0–1.",
      (state) => state.kvCacheUsage,
    );
    let counted = 0;
    new Counter({
      name: 'llmchat_queue_rejections_total',
      help: 'Requests refused because the queue was full or they waited too long (429/503).',
      registers,
      collect() {
        // The queues keep the count; the counter catches up at each scrape.
        const rejected = queues().rejected;
        this.inc(Math.max(0, rejected - counted));
        counted = rejected;
      },
    });
  }
}
