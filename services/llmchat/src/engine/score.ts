import type { Token } from 'node-llama-cpp';
import type { NativeSampler } from './native.js';
import { commonPrefixLength } from './prompt-realign.js';
import type { Sequence } from './sequence.js';
import type { ScoringJob, ScoringResult } from './types.js';

/**
 * Weighs each question's answers on one sequence, by teacher forcing: log P(answer) is the
 * sum of each answer token's log-probability given the prompt and the answer tokens before
 * it, all read from the raw logits (no sampling). (The answers come as disjoint events:
 * generation/prepare-scoring.ts ends them with the turn's end token where one begins another.)
 *
 * Cost: a question evaluates only what its prompt does not share with what the sequence
 * holds (the input, evaluated by the first question, is reused by the next ones, and by the
 * next request that asks about it); one read of that last prompt position gives every
 * answer's first token; an answer of k tokens then costs one decode of k − 1 tokens, after
 * which the sequence is cut back to the prompt for the next answer.
 */
export async function scoreAnswers(
  sequence: Sequence,
  job: ScoringJob,
  probe: NativeSampler,
  signal: AbortSignal,
): Promise<ScoringResult> {
  const startedAt = performance.now();
  let inputTokens = 0;
  let cachedTokens = 0;
  let evaluatedTokens = 0;
  const logprobs: number[][] = [];
  for (const question of job.questions) {
    signal.throwIfAborted();
    const prompt = question.promptTokens;
    // At least the prompt's last token is evaluated: its logits give the answers' first tokens.
    const reused = Math.min(commonPrefixLength(sequence.tokens, prompt), prompt.length - 1);
    sequence.truncate(reused);
    cachedTokens += reused;
    inputTokens += prompt.length;
    evaluatedTokens += prompt.length - reused;
    const firsts = unique(question.answers.map((answer) => answer[0]));
    const lastIndex = prompt.length - reused - 1;
    const first = (
      await sequence.score(prompt.slice(reused), new Map([[lastIndex, firsts]]), probe)
    ).get(lastIndex);
    const scores: number[] = [];
    for (const answer of question.answers) {
      signal.throwIfAborted();
      let logprob = first?.get(answer[0] as Token) ?? Number.NEGATIVE_INFINITY;
      const forced = answer.slice(0, -1);
      if (forced.length > 0) {
        // Position j of the forced tokens predicts answer token j + 1.
        const at = new Map(forced.map((_, index) => [index, [answer[index + 1] as Token]]));
        const read = await sequence.score(forced, at, probe);
        forced.forEach((_, index) => {
          logprob += read.get(index)?.get(answer[index + 1] as Token) ?? Number.NEGATIVE_INFINITY;
        });
        sequence.truncate(prompt.length);
        evaluatedTokens += forced.length;
      }
      inputTokens += answer.length;
      scores.push(logprob);
    }
    logprobs.push(scores);
  }
  return {
    logprobs,
    inputTokens,
    cachedTokens,
    evaluatedTokens,
    scoreMs: performance.now() - startedAt,
  };
}

function unique(tokens: Array<Token | undefined>): Token[] {
  return [...new Set(tokens.filter((token): token is Token => token !== undefined))];
}
