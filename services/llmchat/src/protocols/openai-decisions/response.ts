import type { FinishedScoring } from '../../generation/native-request.js';
import type { DecisionPlan } from './to-native.js';

/*
 * The Decision object (`openai` 7.x, resources/decisions.d.ts) from the scores: each asked
 * question's answer log-probabilities become a distribution over its answers (softmax:
 * P(answer | the model answers with one of them)), in question order, refusals in place.
 *
 * Confidence (choice and score) is 1 − H(p) / ln(K), the distribution's normalised entropy
 * taken from 1: 1 when all the probability is on one answer, 0 when it is spread evenly over
 * the K answers. A score's `score` is the expected level, Σ p(level) × its index (0 for the
 * lowest level, K − 1 for the highest).
 */

/** Log-probabilities → probabilities that sum to 1 (all -Infinity: even). */
export function distribution(logprobs: readonly number[]): number[] {
  const max = Math.max(...logprobs);
  if (!Number.isFinite(max)) return logprobs.map(() => 1 / logprobs.length);
  const weights = logprobs.map((logprob) => Math.exp(logprob - max));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/** 1 − normalised entropy, in [0, 1]. */
export function confidenceOf(probabilities: readonly number[]): number {
  if (probabilities.length < 2) return 1;
  const entropy = probabilities.reduce((sum, p) => (p > 0 ? sum - p * Math.log(p) : sum), 0);
  return Math.min(1, Math.max(0, 1 - entropy / Math.log(probabilities.length)));
}

export function decisionBody(plan: DecisionPlan, scored: FinishedScoring) {
  let asked = 0;
  const answers = plan.questions.map((question) => {
    if (question.type === 'refusal') return { type: 'refusal' as const, name: question.name };
    const p = distribution(scored.logprobs[asked++] ?? []);
    switch (question.type) {
      case 'predicate':
        return { type: 'predicate' as const, name: question.name, probability: p[0] ?? 0 };
      case 'choice': {
        const best = argmax(p);
        return {
          type: 'choice' as const,
          name: question.name,
          choice: question.values[best] ?? '',
          confidence: confidenceOf(p),
          probabilities: question.values.map((value, index) => ({
            value,
            probability: p[index] ?? 0,
          })),
        };
      }
      case 'score':
        return {
          type: 'score' as const,
          name: question.name,
          score: p.reduce((sum, probability, index) => sum + probability * index, 0),
          confidence: confidenceOf(p),
          probabilities: question.labels.map((label, index) => ({
            label,
            value: index,
            probability: p[index] ?? 0,
          })),
        };
      default:
        return question satisfies never;
    }
  });
  return {
    answers,
    model: scored.modelId,
    usage: {
      input_tokens: scored.inputTokens,
      input_tokens_details: { cached_tokens: scored.cachedTokens, cache_write_tokens: 0 },
      output_tokens: 0,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: scored.inputTokens,
    },
  };
}

function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((value, index) => {
    if (value > (values[best] ?? Number.NEGATIVE_INFINITY)) best = index;
  });
  return best;
}
