import type { LlamaGrammarEvaluationState, LlamaModel, Token } from 'node-llama-cpp';
import { createNativeSampler, type NativeSampler, nativeGrammarState } from './native.js';
import type { SamplingOptions } from './types.js';

/** Recent tokens the presence/frequency penalties look at. */
export const PENALTY_WINDOW = 64;

/** node-llama-cpp's defaults when a request leaves these out (so results match its own evaluate()). */
const DEFAULT_TOP_K = 40;
const DEFAULT_TOP_P = 0.95;

export interface SamplerSetup {
  sampling: SamplingOptions;
  /** Token id → logit bias; -Infinity bans the token. */
  bias: ReadonlyMap<Token, number>;
  grammarState?: LlamaGrammarEvaluationState;
  /** Tokens generated before this sampler's first token (for the penalties). */
  history: readonly Token[];
}

/**
 * A native sampler chain configured once for a whole phase of generation; it
 * accepts every token it samples, so penalties and grammar state advance
 * without reconfiguring it per token.
 */
export function createSampler(model: LlamaModel, setup: SamplerSetup): NativeSampler {
  const { sampling, bias, grammarState, history } = setup;
  const sampler = createNativeSampler(model);
  const penalised = Boolean(
    sampling.presencePenalty ||
      sampling.frequencyPenalty ||
      (sampling.repeatPenalty !== undefined && sampling.repeatPenalty !== 1),
  );
  try {
    sampler.applyConfig({
      temperature: sampling.temperature,
      topK: sampling.topK ?? DEFAULT_TOP_K,
      topP: sampling.topP ?? DEFAULT_TOP_P,
      minP: sampling.minP ?? 0,
      ...(sampling.seed !== undefined ? { seed: Math.max(0, Math.floor(sampling.seed)) } : {}),
      ...(penalised
        ? {
            repeatPenalty: sampling.repeatPenalty ?? 1,
            repeatPenaltyMaxTokens: PENALTY_WINDOW,
            repeatPenaltyTokens: Uint32Array.from(history.slice(-PENALTY_WINDOW)),
            repeatPenaltyPresencePenalty: sampling.presencePenalty ?? 0,
            repeatPenaltyFrequencyPenalty: sampling.frequencyPenalty ?? 0,
          }
        : {}),
      ...(bias.size > 0
        ? {
            tokenBiasKeys: Uint32Array.from(bias.keys()),
            tokenBiasValues: Float32Array.from(bias.values()),
          }
        : {}),
      ...(grammarState ? { grammarEvaluationState: nativeGrammarState(grammarState) } : {}),
    });
  } catch (error) {
    sampler.dispose();
    throw error;
  }
  return sampler;
}

/** The request's logit_bias (-100 bans), plus end-of-generation banned when ignore_eos is set. */
export function tokenBiasOf(model: LlamaModel, sampling: SamplingOptions): Map<Token, number> {
  const bias = new Map<Token, number>();
  for (const [token, value] of Object.entries(sampling.logitBias ?? {})) {
    bias.set(Number(token) as Token, value <= -100 ? Number.NEGATIVE_INFINITY : value);
  }
  if (sampling.ignoreEos) {
    for (const token of [model.tokens.eos, model.tokens.eot]) {
      if (token !== null && token !== undefined) bias.set(token, Number.NEGATIVE_INFINITY);
    }
  }
  return bias;
}

/**
 * The sampler that reads log-probabilities beside a generation's own (logprobs.ts): greedy
 * and nothing else, so what it sees at a position is the raw logits of the whole vocabulary.
 */
export function createProbeSampler(model: LlamaModel): NativeSampler {
  const sampler = createNativeSampler(model);
  try {
    sampler.applyConfig({ temperature: 0, topK: 0, topP: 1, minP: 0 });
  } catch (error) {
    sampler.dispose();
    throw error;
  }
  return sampler;
}
