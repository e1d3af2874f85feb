import { ContextLengthExceededError } from '../engine/engine-errors.js';
import type { ModelEngine } from '../engine/model-engine.js';
import type { ScoringJob } from '../engine/types.js';
import type { NativeScoringRequest } from './native-request.js';

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
      const answers = question.answers.map((answer) => engine.answerTokens(answer, rendered));
      const needed =
        rendered.tokens.length + Math.max(0, ...answers.map((answer) => answer.length));
      if (needed > engine.contextSize) {
        throw new ContextLengthExceededError(needed, engine.contextSize, 'input');
      }
      return { promptTokens: rendered.tokens, answers };
    }),
  };
}
