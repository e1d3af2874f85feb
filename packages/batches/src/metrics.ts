import { Counter, Gauge, type Registry } from 'prom-client';

/** The batch API's Prometheus metrics, in the service's registry (`app.metrics`). */
export class BatchMetrics {
  readonly #batches: Counter<'status'>;
  readonly #lines: Counter<'outcome'>;

  constructor(registry: Registry, running: () => number) {
    this.#batches = new Counter({
      name: 'hrserve_batches_total',
      help: 'Batches this process finished, by final status (completed, failed, cancelled, expired).',
      labelNames: ['status'],
      registers: [registry],
    });
    this.#lines = new Counter({
      name: 'hrserve_batch_lines_total',
      help: 'Batch lines this process ran, by outcome: succeeded (2xx), failed (in the error file), retried (the service was busy; run again later), preempted (gave its sequence to an interactive request; run again), released (given back at shutdown).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    new Gauge({
      name: 'hrserve_batch_lines_running',
      help: 'Batch lines running in this process now.',
      registers: [registry],
      collect() {
        this.set(running());
      },
    });
  }

  batchFinished(status: string): void {
    this.#batches.inc({ status });
  }

  line(outcome: 'succeeded' | 'failed' | 'retried' | 'preempted' | 'released'): void {
    this.#lines.inc({ outcome });
  }
}
