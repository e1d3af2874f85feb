import { Counter, Histogram, type Registry } from 'prom-client';

/** embed's Prometheus metrics, named after the OpenTelemetry GenAI conventions where they apply. */
export class EmbedMetrics {
  private readonly duration: Histogram<'gen_ai_request_model' | 'gen_ai_operation_name'>;
  private readonly tokens: Counter<'gen_ai_request_model' | 'gen_ai_token_type'>;
  private readonly inputs: Counter<'gen_ai_request_model'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'gen_ai_server_request_duration_seconds',
      help: 'Time from admission to the last vector of a request.',
      labelNames: ['gen_ai_request_model', 'gen_ai_operation_name'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.tokens = new Counter({
      name: 'gen_ai_server_token_usage_total',
      help: 'Input tokens embedded.',
      labelNames: ['gen_ai_request_model', 'gen_ai_token_type'],
      registers,
    });
    this.inputs = new Counter({
      name: 'embed_inputs_total',
      help: 'Inputs embedded (a request may carry many).',
      labelNames: ['gen_ai_request_model'],
      registers,
    });
  }

  record(model: string, inputs: number, tokens: number, seconds: number): void {
    this.duration.observe(
      { gen_ai_request_model: model, gen_ai_operation_name: 'embeddings' },
      seconds,
    );
    this.tokens.inc({ gen_ai_request_model: model, gen_ai_token_type: 'input' }, tokens);
    this.inputs.inc({ gen_ai_request_model: model }, inputs);
  }
}
