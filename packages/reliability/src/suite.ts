import { cancellationScenario } from './scenarios/cancellation.js';
import { disconnectScenario } from './scenarios/disconnects.js';
import { embeddingFairnessScenario, embedSigtermScenario } from './scenarios/embedding.js';
import {
  badModelScenario,
  collectorScenario,
  killScenario,
  sigtermScenario,
} from './scenarios/faults.js';
import { fuzzScenario } from './scenarios/fuzz.js';
import { gpuScenario } from './scenarios/gpu.js';
import { keepAliveScenario } from './scenarios/keep-alive.js';
import { loadScenario } from './scenarios/load.js';
import { overloadScenario } from './scenarios/overload.js';
import { securityScenario } from './scenarios/security.js';
import { slowClientScenario } from './scenarios/slow-clients.js';
import { modelCyclesSoak, uniqueRequestsSoak } from './scenarios/soak.js';
import { type ScenarioResult, startLlmchat } from './target.js';

/** Sequences and waiting places of the llmchat under test: the overload scenario sends 3× their sum. */
export const PARALLEL = 4;
export const QUEUE_SIZE = 8;

/** The scenarios, each on a real llmchat process; `soak` multiplies the load and the storm. */
export async function runSuite(
  options: { soak?: number; onResult?: (result: ScenarioResult) => void } = {},
) {
  const soak = options.soak ?? 1;
  const results: ScenarioResult[] = [];
  const record = (result: ScenarioResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  /** A scenario that throws fails alone: the rest still run and report. */
  const attempt = async (
    name: string,
    scenario: () => Promise<ScenarioResult | ScenarioResult[]>,
  ): Promise<void> => {
    try {
      const outcome = await scenario();
      for (const result of Array.isArray(outcome) ? outcome : [outcome]) record(result);
    } catch (error) {
      record({
        name,
        figures: {},
        failures: [`threw: ${error instanceof Error ? error.message : String(error)}`],
      });
    }
  };
  const service = await startLlmchat({
    LLMCHAT_PARALLEL: String(PARALLEL),
    LLMCHAT_QUEUE_SIZE: String(QUEUE_SIZE),
  });
  try {
    record(await overloadScenario(service.url, PARALLEL + QUEUE_SIZE));
  } finally {
    await service.stop();
  }
  const busy = await startLlmchat({ LLMCHAT_PARALLEL: '16', LLMCHAT_QUEUE_SIZE: '64' });
  try {
    // Room for the fuzz's valid-after-all requests, so the malformed ones meet validation, not a full queue.
    record(await fuzzScenario(busy.url));
    record(await loadScenario(busy.url, 200 * soak, 16));
    record(await disconnectScenario(busy.url, 100 * soak));
  } finally {
    await busy.stop();
  }
  await attempt('faults: OTLP collector', collectorScenario);
  await attempt('faults: SIGTERM under load', sigtermScenario);
  await attempt('faults: kill -9', killScenario);
  await attempt('faults: missing or corrupt model', badModelScenario);
  await attempt('security', securityScenario);
  // Faults and abuse (issue 17), one scenario per item.
  await attempt('cancellation', cancellationScenario);
  await attempt('keep_alive', keepAliveScenario);
  await attempt('embedding: one large request', embeddingFairnessScenario);
  await attempt('slow clients', slowClientScenario);
  await attempt('embed: SIGTERM', embedSigtermScenario);
  await attempt('soak: unique schemas and prompts', () => uniqueRequestsSoak(soak));
  await attempt('soak: model loads', () => modelCyclesSoak(soak));
  await attempt('GPU', gpuScenario);
  return results;
}

/** The results as a readable report (markdown). */
export function report(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`### ${result.failures.length === 0 ? 'PASS' : 'FAIL'} — ${result.name}`, '');
    lines.push('| figure | value |', '|---|---:|');
    for (const [name, value] of Object.entries(result.figures))
      lines.push(`| ${name} | ${value} |`);
    for (const failure of result.failures) lines.push(`\n- **${failure}**`);
    lines.push('');
  }
  return lines.join('\n');
}
