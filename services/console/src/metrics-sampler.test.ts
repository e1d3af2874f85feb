import { describe, expect, it } from 'vitest';
import { pointBetween, totalsOf } from './metrics-sampler.js';
import { parsePrometheusText } from './prometheus-text.js';

const metrics = (ttftSum: number, ttftCount: number, output: number, input: number) => `
# HELP gen_ai_server_time_to_first_token_seconds Time to first token.
# TYPE gen_ai_server_time_to_first_token_seconds histogram
gen_ai_server_time_to_first_token_seconds_bucket{le="0.1",gen_ai_request_model="a",gen_ai_operation_name="chat"} 1
gen_ai_server_time_to_first_token_seconds_sum{gen_ai_request_model="a",gen_ai_operation_name="chat"} ${ttftSum / 2}
gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="a",gen_ai_operation_name="chat"} ${ttftCount / 2}
gen_ai_server_time_to_first_token_seconds_sum{gen_ai_request_model="b \\"quoted\\"",gen_ai_operation_name="chat"} ${ttftSum / 2}
gen_ai_server_time_to_first_token_seconds_count{gen_ai_request_model="b \\"quoted\\"",gen_ai_operation_name="chat"} ${ttftCount / 2}
gen_ai_server_token_usage_total{gen_ai_request_model="a",gen_ai_token_type="output"} ${output}
gen_ai_server_token_usage_total{gen_ai_request_model="a",gen_ai_token_type="input"} ${input}
gen_ai_server_token_usage_total{gen_ai_request_model="a",gen_ai_token_type="cached"} 999
`;

describe('the charts from /metrics', () => {
  it('parses labels, quoted ones included', () => {
    const samples = parsePrometheusText(metrics(1, 2, 3, 4));
    expect(
      samples.find((sample) => sample.labels.gen_ai_request_model === 'b "quoted"'),
    ).toBeDefined();
    expect(samples.some((sample) => sample.name.startsWith('#'))).toBe(false);
  });

  it("turns two reads into a point: the interval's mean TTFT and tokens per second", () => {
    const before = totalsOf(metrics(2, 4, 100, 50), 10_000);
    const after = totalsOf(metrics(3, 8, 300, 250), 12_000);
    expect(pointBetween(before, after)).toEqual({
      t: 12_000,
      ttft_ms: 250,
      output_tokens_per_s: 100,
      input_tokens_per_s: 100,
    });
    // No answer started in between: no TTFT, not zero.
    expect(pointBetween(after, { ...after, at: 13_000 })?.ttft_ms).toBeNull();
    // A restarted service (counters went down) gives no point.
    expect(pointBetween(after, totalsOf(metrics(0, 0, 0, 0), 14_000))).toBeUndefined();
  });
});
