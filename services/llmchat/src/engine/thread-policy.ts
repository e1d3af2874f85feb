/**
 * How many of the process's CPU threads one native decode uses, chosen per
 * batch: one thread or the whole budget. node-llama-cpp's prebuilt binaries
 * start and join their worker threads for every graph (no OpenMP, no ggml
 * threadpool), a fixed cost of several milliseconds per decode; a second
 * thread pays off only when the batch has enough arithmetic to split.
 *
 * Where that point lies depends on the CPU, not only on the model: one token of
 * synth-100M took 19 ms on one thread on one 2-core machine of this kind (the
 * budget won) and 6 ms on another (one thread won, by 1.9×). So `auto` starts
 * from a prior (tokens × weight bytes against PARALLEL_WORK_BYTES) and then
 * measures: per class of batch size, it times decodes with one thread and with
 * the budget, uses the faster, and checks the other again now and then (load
 * from other processes changes the answer too).
 *
 * The budget is the process's, not a model's: decodes are serialised across
 * models (DecodeGate), so however many models are busy, at most `budget`
 * threads compute at once.
 */
export interface ThreadOptions {
  /** Threads one decode may use at most (LLMCHAT_THREADS; default: every core). */
  budget: number;
  /** `auto`: measured per batch size; `fixed`: always the whole budget. */
  policy: 'auto' | 'fixed';
}

/** Picks the threads of each decode, and learns from how long decodes took. */
export interface ThreadChoice {
  /** Threads for the next decode of a batch of `batchTokens`. */
  threadsFor(batchTokens: number): number;
  /** That decode took `ms` (the native decode alone) with `threads`. */
  observe(batchTokens: number, threads: number, ms: number): void;
}

/**
 * The prior: work (batch tokens × weight bytes) from which a decode uses the whole budget.
 * Measured on 2 cores with node-llama-cpp's prebuilt CPU binary
 * (`./pnpm --filter llmchat bench:threads`, README "Threads"), where a second thread
 * cost ≈7 ms per graph and paid off once one thread would need about twice that.
 */
export const PARALLEL_WORK_BYTES = 50_000_000;

/** Decodes timed with each count before the measurements overrule the prior. */
const SAMPLES_TO_COMPARE = 3;
/**
 * After that, a size class tries the other count again 64 decodes later, then 128 more,
 * 256 more, … up to every RECHECK_AT_MOST; 64 again once the faster count changed. A
 * recheck costs one slower decode.
 */
const RECHECK_FIRST = 64;
const RECHECK_AT_MOST = 1024;
/**
 * Weight of the newest decode in a count's running mean, once it has SAMPLES_TO_COMPARE (a
 * plain mean before): the count in use is timed every decode. A recheck of the other count
 * weighs more (RECHECK_WEIGHT), its value being old.
 */
const SMOOTHING = 0.25;
const RECHECK_WEIGHT = 0.5;
/** One thread this much slower per token than the budget: no more tries of it until a recheck. */
const HOPELESS = 2;
/**
 * One thread is tried only where decodes with the budget are this short. With a per-graph
 * cost O, n threads beat one unless their decode takes under O·n/(n−1), ≈ 15–20 ms here; a
 * longer decode cannot go faster on one thread, and trying it on a long prompt of a large
 * model would cost seconds.
 */
const TRY_ONE_THREAD_BELOW_MS = 25;

export const ONE_THREAD: ThreadChoice = { threadsFor: () => 1, observe: () => {} };

/** The thread choice for a model whose weights take `weightBytes`. */
export function threadChoice(options: ThreadOptions, weightBytes: number): ThreadChoice {
  const { budget, policy } = options;
  if (policy === 'fixed' || budget === 1) return { threadsFor: () => budget, observe: () => {} };
  return new MeasuredThreads(budget, (batchTokens) =>
    batchTokens * weightBytes >= PARALLEL_WORK_BYTES ? budget : 1,
  );
}

/** Running mean of milliseconds per batch token, for one thread count. */
interface Timing {
  samples: number;
  msPerToken: number;
}

/** Batches of 1, 2, 3–4, 5–8, … tokens: each class's best count is learnt on its own. */
class SizeClass {
  decodes = 0;
  readonly timings = new Map<number, Timing>();
  /** The count found faster when last asked (undefined: not measured yet). */
  best: number | undefined;
  recheckEvery = RECHECK_FIRST;
  nextRecheck = RECHECK_FIRST;

  /** Decodes timed so far (the first is not kept: caches may be cold). */
  timed = 0;

  /** Whether this decode rechecks the other count; schedules the next recheck if so. */
  rechecks(): boolean {
    if (this.decodes < this.nextRecheck) return false;
    this.recheckEvery = Math.min(this.recheckEvery * 2, RECHECK_AT_MOST);
    this.nextRecheck = this.decodes + this.recheckEvery;
    return true;
  }

  /** A change of the faster count: recheck soon again, the load may be changing. */
  found(best: number): void {
    if (this.best !== undefined && best !== this.best) {
      this.recheckEvery = RECHECK_FIRST;
      this.nextRecheck = this.decodes + RECHECK_FIRST;
    }
    this.best = best;
  }

  samples(threads: number): number {
    return this.timings.get(threads)?.samples ?? 0;
  }

  msPerToken(threads: number): number | undefined {
    return this.timings.get(threads)?.msPerToken;
  }

  record(threads: number, msPerToken: number): void {
    if (this.timed++ === 0) return;
    const timing = this.timings.get(threads);
    if (!timing) {
      this.timings.set(threads, { samples: 1, msPerToken });
      return;
    }
    timing.samples++;
    const weight =
      timing.samples <= SAMPLES_TO_COMPARE
        ? 1 / timing.samples
        : this.best !== undefined && threads !== this.best
          ? RECHECK_WEIGHT
          : SMOOTHING;
    timing.msPerToken += weight * (msPerToken - timing.msPerToken);
  }
}

export class MeasuredThreads implements ThreadChoice {
  private readonly classes = new Map<number, SizeClass>();

  constructor(
    private readonly budget: number,
    private readonly prior: (batchTokens: number) => number,
  ) {}

  threadsFor(batchTokens: number): number {
    const size = this.classOf(batchTokens);
    size.decodes++;
    const best = this.best(size, batchTokens);
    const other = best === 1 ? this.budget : 1;
    if (other === 1) {
      // Not before the budget's own time is known: it may be a long prompt of a large model.
      const budgetMs = size.msPerToken(this.budget);
      if (budgetMs === undefined || budgetMs * batchTokens >= TRY_ONE_THREAD_BELOW_MS) return best;
    }
    // The other count: a few decodes once the class is warm (its first may be cold), then now
    // and then; no more early tries of one thread once it is far behind.
    const one = size.msPerToken(1);
    const all = size.msPerToken(this.budget);
    const hopeless = other === 1 && one !== undefined && all !== undefined && one > HOPELESS * all;
    const unmeasured = size.samples(other) < SAMPLES_TO_COMPARE && size.decodes > 1 && !hopeless;
    if (unmeasured || size.rechecks()) return other;
    return best;
  }

  observe(batchTokens: number, threads: number, ms: number): void {
    if (batchTokens < 1 || !(ms >= 0)) return;
    this.classOf(batchTokens).record(threads, ms / batchTokens);
  }

  /** The faster count once both are measured; the prior until then. */
  private best(size: SizeClass, batchTokens: number): number {
    const one = size.msPerToken(1);
    const all = size.msPerToken(this.budget);
    if (
      one === undefined ||
      all === undefined ||
      size.samples(1) < SAMPLES_TO_COMPARE ||
      size.samples(this.budget) < SAMPLES_TO_COMPARE
    ) {
      return this.prior(batchTokens);
    }
    const best = one <= all ? 1 : this.budget;
    size.found(best);
    return best;
  }

  private classOf(batchTokens: number): SizeClass {
    const key = Math.ceil(Math.log2(Math.max(1, batchTokens)));
    let size = this.classes.get(key);
    if (!size) {
      size = new SizeClass();
      this.classes.set(key, size);
    }
    return size;
  }
}
