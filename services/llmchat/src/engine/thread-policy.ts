/**
 * How many of the process's CPU threads one native decode uses, chosen per
 * batch from the work in it. ggml splits each operation of the graph over the
 * threads and synchronises them after it, a cost paid per operation whatever
 * the batch; it pays off only when the batch has enough arithmetic to split.
 * That arithmetic is roughly the batch's tokens times the model's weights, so
 * the policy compares `tokens × weight bytes` with a threshold measured on this
 * class of machine (README, "Threads"): below it one thread, above it the whole
 * budget.
 *
 * The budget is the process's, not a model's: decodes are serialised across
 * models (DecodeGate), so however many models are busy, at most `budget`
 * threads compute at once.
 */
export interface ThreadOptions {
  /** Threads one decode may use at most (LLMCHAT_THREADS; default: every core). */
  budget: number;
  /** `auto`: by the work in each batch; `fixed`: always the whole budget. */
  policy: 'auto' | 'fixed';
}

/**
 * Work (batch tokens × weight bytes) from which a decode uses the whole budget.
 * Measured on 2 cores with node-llama-cpp's prebuilt CPU binary
 * (`./pnpm --filter llmchat bench:threads`, README "Threads"): a second thread
 * costs ≈7 ms per graph (ggml starts and joins it for every graph) and pays
 * off once one thread would need about twice that. One token of synth-30M
 * (30 MB) is below (1 thread: 114 tokens/s, 2: 90); one token of synth-100M
 * (91 MB) is above (52 vs 58), as are 8 tokens of synth-30M (214 vs 326
 * tokens/s) and a 512-token prompt of stories260K (319 vs 194 ms).
 */
export const PARALLEL_WORK_BYTES = 50_000_000;

export type ThreadChoice = (batchTokens: number) => number;

/** The thread count for each batch of a model whose weights take `weightBytes`. */
export function threadChoice(options: ThreadOptions, weightBytes: number): ThreadChoice {
  const { budget, policy } = options;
  if (policy === 'fixed' || budget === 1) return () => budget;
  return (batchTokens) => (batchTokens * weightBytes >= PARALLEL_WORK_BYTES ? budget : 1);
}
