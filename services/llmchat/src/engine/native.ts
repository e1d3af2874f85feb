import type { LlamaContext, LlamaGrammarEvaluationState, LlamaModel } from 'node-llama-cpp';

/**
 * The few node-llama-cpp internals llmchat drives directly, typed and reached
 * in this one file. Why: `LlamaContextSequence.evaluate` spends ~1 ms of
 * bookkeeping per token (locks, a sampler rebuilt from its config every
 * token, a batch dispatched only once every sequence has queued), which on a
 * small model is most of the time per token (measured: 600 vs 1,200 tokens/s
 * on stories260K). llmchat's own decode loop calls the same native methods
 * node-llama-cpp's loop calls. They are internal API, so node-llama-cpp is
 * pinned to an exact version (package.json) and `nativeContext` checks the
 * methods exist at load, failing with a clear message instead of mid-request.
 */
export interface NativeContext {
  initBatch(size: number): void;
  /** Returns, for each index in `logitIndexes`, its position in the batch's outputs. */
  addToBatch(
    sequenceId: number,
    firstTokenPosition: number,
    tokens: Uint32Array,
    logitIndexes: Uint32Array,
  ): Uint32Array;
  decodeBatch(): Promise<void>;
  /** The sampled token, or -1 when no token can follow (a grammar with no way on). */
  sampleToken(batchLogitIndex: number, sampler: NativeSampler): Promise<number>;
  /**
   * The same, answering [token, probabilities, confidence, logits, totalLogitWeight]: with
   * `logits` [filter tokens, include max, include min, include selected, top N], the top N
   * logits (sorted) then the filter tokens'; `totalLogitWeight`: Σ exp(logit − max).
   */
  sampleToken(
    batchLogitIndex: number,
    sampler: NativeSampler,
    probabilities: boolean,
    confidence: boolean,
    logits: [number[], boolean, boolean, boolean, number],
    totalLogitWeight: boolean,
  ): Promise<unknown>;
  /** Removes KV cells of positions [start, end) (end -1: to the end). */
  removeTokenCellsFromSequence(sequenceId: number, start: number, end: number): boolean;
  /** Makes the target sequence's KV state a copy of the source's (llama_memory_seq_cp); resolves with the last position copied. */
  copySequenceStateFromOtherSequence(
    targetSequenceId: number,
    sourceSequenceId: number,
  ): Promise<number>;
  setThreads(threads: number): void;
}

/** Native sampler chain; applyConfig builds it, each sampled token is accepted into its penalty and grammar state. */
export interface NativeSampler {
  applyConfig(config: NativeSamplerConfig): void;
  dispose(): void;
}

export interface NativeSamplerConfig {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  seed?: number;
  repeatPenalty?: number;
  repeatPenaltyMaxTokens?: number;
  repeatPenaltyTokens?: Uint32Array;
  repeatPenaltyPresencePenalty?: number;
  repeatPenaltyFrequencyPenalty?: number;
  tokenBiasKeys?: Uint32Array;
  tokenBiasValues?: Float32Array;
  grammarEvaluationState?: unknown;
}

interface ContextInternals {
  _ctx: NativeContext;
}
interface ModelInternals {
  _model: unknown;
  _llama: { _bindings: { AddonSampler: new (model: unknown) => NativeSampler } };
}
interface GrammarStateInternals {
  _state: unknown;
}

const CONTEXT_METHODS = [
  'initBatch',
  'addToBatch',
  'decodeBatch',
  'sampleToken',
  'removeTokenCellsFromSequence',
  'copySequenceStateFromOtherSequence',
  'setThreads',
] as const;

export function nativeContext(context: LlamaContext): NativeContext {
  const native = (context as unknown as ContextInternals)._ctx;
  const missing = CONTEXT_METHODS.filter(
    (method) => typeof (native as unknown as Record<string, unknown>)?.[method] !== 'function',
  );
  if (missing.length > 0) {
    throw new Error(
      `This node-llama-cpp version lacks the context methods llmchat's decode loop uses (${missing.join(', ')}). Install the version pinned in services/llmchat/package.json.`,
    );
  }
  return native;
}

export function createNativeSampler(model: LlamaModel): NativeSampler {
  const internals = model as unknown as ModelInternals;
  return new internals._llama._bindings.AddonSampler(internals._model);
}

export function nativeGrammarState(state: LlamaGrammarEvaluationState): unknown {
  return (state as unknown as GrammarStateInternals)._state;
}
