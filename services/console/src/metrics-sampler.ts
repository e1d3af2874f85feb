import type { FastifyBaseLogger } from 'hrserve';
import { parsePrometheusText, total } from './prometheus-text.js';
import type { ServiceDirectory } from './services.js';

/** The counters a chart point is computed from, read from one /metrics. */
export interface MetricTotals {
  at: number;
  ttftSeconds: number;
  ttftCount: number;
  inputTokens: number;
  outputTokens: number;
}

/** One point of a service's charts: what happened between two reads of its /metrics. */
export interface ChartPoint {
  /** Unix milliseconds of the later read. */
  t: number;
  /** Mean time to first token of the answers started in the interval; null without any. */
  ttft_ms: number | null;
  /** Output tokens per second over the interval (chat services). */
  output_tokens_per_s: number;
  /** Input tokens per second over the interval (prompts; embed's inputs). */
  input_tokens_per_s: number;
}

/** Points kept per service: at the default 5 s interval, the last 10 minutes. */
const POINTS_KEPT = 120;

export function totalsOf(text: string, at: number): MetricTotals {
  const samples = parsePrometheusText(text);
  return {
    at,
    ttftSeconds: total(samples, 'gen_ai_server_time_to_first_token_seconds_sum'),
    ttftCount: total(samples, 'gen_ai_server_time_to_first_token_seconds_count'),
    inputTokens: total(samples, 'gen_ai_server_token_usage_total', { gen_ai_token_type: 'input' }),
    outputTokens: total(samples, 'gen_ai_server_token_usage_total', {
      gen_ai_token_type: 'output',
    }),
  };
}

/** The point between two reads; a counter that went down means the service restarted. */
export function pointBetween(before: MetricTotals, after: MetricTotals): ChartPoint | undefined {
  const seconds = (after.at - before.at) / 1000;
  const restarted =
    after.ttftCount < before.ttftCount ||
    after.ttftSeconds < before.ttftSeconds ||
    after.outputTokens < before.outputTokens ||
    after.inputTokens < before.inputTokens;
  if (seconds <= 0 || restarted) return undefined;
  const answers = after.ttftCount - before.ttftCount;
  return {
    t: after.at,
    ttft_ms: answers > 0 ? ((after.ttftSeconds - before.ttftSeconds) / answers) * 1000 : null,
    output_tokens_per_s: (after.outputTokens - before.outputTokens) / seconds,
    input_tokens_per_s: (after.inputTokens - before.inputTokens) / seconds,
  };
}

/**
 * Reads every service's /metrics every interval and keeps the recent chart points, so the
 * fleet page's charts have a history the moment it opens. A service that does not answer
 * just has a gap.
 */
export class MetricsSampler {
  readonly #last = new Map<string, MetricTotals>();
  readonly #points = new Map<string, ChartPoint[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: ServiceDirectory,
    private readonly options: {
      intervalMs: number;
      headers: Record<string, string>;
      log: FastifyBaseLogger;
    },
  ) {}

  start(): void {
    const tick = () => {
      void this.sampleAll().finally(() => {
        if (this.#timer) this.#timer = setTimeout(tick, this.options.intervalMs).unref();
      });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  points(service: string): ChartPoint[] {
    return this.#points.get(service) ?? [];
  }

  async sampleAll(): Promise<void> {
    await Promise.all(this.services.all.map((entry) => this.sample(entry.name, entry.url)));
  }

  private async sample(service: string, url: string): Promise<void> {
    let totals: MetricTotals;
    try {
      const response = await fetch(`${url}/metrics`, {
        headers: this.options.headers,
        signal: AbortSignal.timeout(Math.max(1_000, this.options.intervalMs)),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      totals = totalsOf(await response.text(), Date.now());
    } catch (error) {
      this.#last.delete(service);
      this.options.log.debug({ err: error, service }, 'metrics not read');
      return;
    }
    const before = this.#last.get(service);
    this.#last.set(service, totals);
    const point = before && pointBetween(before, totals);
    if (!point) return;
    const points = this.#points.get(service) ?? [];
    points.push(point);
    if (points.length > POINTS_KEPT) points.splice(0, points.length - POINTS_KEPT);
    this.#points.set(service, points);
  }
}
