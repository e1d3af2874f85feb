import type { Token } from 'node-llama-cpp';
import { ContextLengthExceededError } from '../engine/engine-errors.js';
import type { ModelEngine } from '../engine/model-engine.js';
import type { ScoringJob } from '../engine/types.js';
import type { NativeScoringRequest } from './native-request.js';

/**
 * Answers as the events they score: when one answer's tokens begin another's ("Paris" and
 * "Paris, Texas"), "the reply starts with it" would count the longer one's probability in the
 * shorter one's, so every answer of that question ends with the turn's end token ("the reply
 * is exactly it"). Otherwise the answers are already disjoint, and a one-token answer costs no
 * decode of its own (its probability is read from the prompt's last position).
 */
export function withTurnEnds(answers: Token[][], end: Token | undefined): Token[][] {
  if (end === undefined) return answers;
  const overlapping = answers.some((answer, index) =>
    answers.some(
      (other, at) =>
        at !== index &&
        answer.length <= other.length &&
        answer.every((token, position) => other[position] === token),
    ),
  );
  return overlapping ? answers.map((answer) => [...answer, end]) : answers;
}

/**
 * The engine's scoring job: each question rendered after the shared messages as the next
 * user turn, with every answer's tokens as the model would reply. A question whose prompt
 * and longest answer do not fit the context is refused (400 naming `input`).
 */
export function scoringJobOf(engine: ModelEngine, request: NativeScoringRequest): ScoringJob {
  return {
    questions: request.questions.map((question) => {
      const rendered = engine.renderChat(
        [...request.messages, { role: 'user', content: question.ask }],
        [],
      );
      const answers = withTurnEnds(
        question.answers.map((answer) => engine.answerTokens(answer)),
        engine.turnEnd(rendered),
      );
      const needed =
        rendered.tokens.length + Math.max(0, ...answers.map((answer) => answer.length));
      if (needed > engine.contextSize) {
        throw new ContextLengthExceededError(needed, engine.contextSize, 'input');
      }
      return { promptTokens: rendered.tokens, answers };
    }),
  };
}
