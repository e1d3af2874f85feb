import type { Token } from 'node-llama-cpp';
import type { NativeContext, NativeSampler } from './native.js';

/**
 * Log-probabilities of sampled tokens, from the model's own distribution: the log-softmax of
 * the raw logits, before temperature, truncation (top-k/p, min-p), penalties or a grammar,
 * as OpenAI and llama-server's `n_probs` report them.
 */
export interface TokenLogprob {
  token: Token;
  logprob: number;
  /** The most likely tokens at that position, most likely first (at most 20). */
  top: Array<{ token: Token; logprob: number }>;
}

/** The most alternatives any API asks for (OpenAI's top_logprobs: 0–20). */
export const MAX_TOP_LOGPROBS = 20;

/**
 * From the probe's answer: `pairs` is [token, logit, token, logit, …] with the `top` highest
 * first (sorted, so the first is the maximum) then the sampled token's own; `weight` is
 * Σ exp(logit − max) over the whole vocabulary. log p(t) = logit(t) − max − ln(weight).
 */
export function logprobsFromLogits(
  sampled: Token,
  pairs: readonly number[],
  weight: number,
  top: number,
): TokenLogprob {
  const max = pairs[1] ?? 0;
  const norm = max + Math.log(weight);
  const entries: Array<{ token: Token; logprob: number }> = [];
  let sampledLogprob: number | undefined;
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    const token = pairs[index] as Token;
    const logprob = (pairs[index + 1] ?? 0) - norm;
    if (token === sampled) sampledLogprob ??= logprob;
    if (entries.length < top && !entries.some((entry) => entry.token === token)) {
      entries.push({ token, logprob });
    }
  }
  return { token: sampled, logprob: sampledLogprob ?? Number.NEGATIVE_INFINITY, top: entries };
}

/** The native call that reads a position's logits without the stream's own sampler chain. */
export type ProbeBackend = Pick<NativeContext, 'sampleToken'>;

/**
 * The probe's read of a position: with `top` the highest logits first (sorted, so the first
 * is the maximum) then the `filter` tokens', as [token, logit, …] pairs, and the
 * log-softmax normaliser (max + ln Σ exp(logit − max) over the whole vocabulary).
 */
async function readLogits(
  backend: ProbeBackend,
  logitIndex: number,
  probe: NativeSampler,
  filter: readonly Token[],
  top: number,
): Promise<{ pairs: number[]; weight: number }> {
  const answer = (await backend.sampleToken(
    logitIndex,
    probe,
    false,
    false,
    [[...filter], false, false, false, Math.max(1, top)],
    true,
  )) as unknown as [number, unknown, unknown, number[] | undefined, number | undefined];
  return { pairs: answer[3] ?? [], weight: answer[4] ?? 1 };
}

/**
 * Reads the log-probabilities at `logitIndex` (of the batch just decoded) for the token the
 * stream's sampler chose, with a probe sampler of its own: greedy and nothing else, so the
 * candidates it sees are the raw logits of the whole vocabulary.
 */
export async function probeLogprobs(
  backend: ProbeBackend,
  logitIndex: number,
  probe: NativeSampler,
  sampled: Token,
  top: number,
): Promise<TokenLogprob> {
  const { pairs, weight } = await readLogits(backend, logitIndex, probe, [sampled], top);
  return logprobsFromLogits(sampled, pairs, weight, top);
}

/**
 * The log-probabilities of `tokens` at `logitIndex` (teacher forcing: how likely each
 * candidate is as the next token), read with the same greedy probe from the raw logits.
 */
export async function probeTokenLogprobs(
  backend: ProbeBackend,
  logitIndex: number,
  probe: NativeSampler,
  tokens: readonly Token[],
): Promise<Map<Token, number>> {
  const { pairs, weight } = await readLogits(backend, logitIndex, probe, tokens, 1);
  // The first pair is the top-1 (the maximum logit); the candidates' pairs follow it.
  const norm = (pairs[1] ?? 0) + Math.log(weight);
  const logprobs = new Map<Token, number>();
  for (let index = 2; index + 1 < pairs.length; index += 2) {
    logprobs.set(pairs[index] as Token, (pairs[index + 1] ?? 0) - norm);
  }
  // A candidate that is also the top-1 may come only once.
  const top = pairs[0] as Token | undefined;
  if (top !== undefined && tokens.includes(top) && !logprobs.has(top)) {
    logprobs.set(top, (pairs[1] ?? 0) - norm);
  }
  return logprobs;
}
