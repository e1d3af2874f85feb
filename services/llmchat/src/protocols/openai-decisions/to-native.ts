import { ApiError, errorCatalogue } from 'hrserve';
import type { ChatMessage } from '../../engine/types.js';
import type { NativeScoringRequest } from '../../generation/native-request.js';
import type { DecisionCreateRequest, DecisionInputItem, DecisionQuestion } from './request.js';

/*
 * A Decisions request as a native scoring request: pure, tested with golden fixtures. The
 * input becomes the conversation; each question becomes a user turn after it that lists
 * the answers it takes, and each answer is scored as the assistant's whole reply:
 *   predicate → "yes" / "no" (its probability is P(yes) over the two),
 *   choice    → each value as written ("true"/"false" for booleans),
 *   score     → each level's label, lowest first.
 * A question the model can't be asked (an image, in it or in the input: this model reads
 * text) is planned as a refusal and not sent.
 */

/** What the answer to one question is made from, in question order. */
export type QuestionPlan =
  | { type: 'refusal'; name: string | null }
  | { type: 'predicate'; name: string | null }
  | { type: 'choice'; name: string | null; values: Array<string | boolean> }
  | { type: 'score'; name: string | null; labels: string[] };

export interface DecisionPlan {
  /** The questions that are asked (refusals left out), for the engine. */
  native: NativeScoringRequest;
  questions: QuestionPlan[];
}

export const PREDICATE_ANSWERS = ['yes', 'no'] as const;

function invalid(param: string, message: string): ApiError {
  return new ApiError(errorCatalogue.invalidRequest, message, { param });
}

/** Text parts joined; JSON parts as compact JSON; undefined when a part is an image. */
function textOf(
  content:
    | string
    | ReadonlyArray<{ type: string; text?: string; data?: unknown; refusal?: string }>,
): string | undefined {
  if (typeof content === 'string') return content;
  const texts: string[] = [];
  for (const part of content) {
    if (part.type === 'input_image') return undefined;
    if (part.type === 'input_json') texts.push(JSON.stringify(part.data));
    else texts.push(part.text ?? part.refusal ?? '');
  }
  return texts.join('\n');
}

/** The input as chat messages; `undefined` when it holds an image. Tool outputs must follow their call. */
function inputMessages(input: DecisionCreateRequest['input']): ChatMessage[] | undefined {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const calls = new Set<string>();
  const messages: ChatMessage[] = [];
  for (const [index, item] of input.entries()) {
    const message = itemMessage(item, index, calls);
    if (message === undefined) return undefined;
    const last = messages.at(-1);
    // Calls made in one turn replay as one assistant message, as the model made them.
    if (message.toolCalls && last?.role === 'assistant' && last.toolCalls) {
      last.toolCalls.push(...message.toolCalls);
    } else {
      messages.push(message);
    }
  }
  return messages;
}

function itemMessage(
  item: DecisionInputItem,
  index: number,
  calls: Set<string>,
): ChatMessage | undefined {
  if ('role' in item) {
    const content = textOf(item.content);
    if (content === undefined) return undefined;
    const role = item.role === 'developer' ? 'system' : item.role;
    return { role, content };
  }
  switch (item.type) {
    case 'function_call':
    case 'custom_tool_call':
      calls.add(item.call_id);
      return {
        role: 'assistant',
        content: '',
        toolCalls: [
          {
            id: item.call_id,
            name: item.name,
            arguments: item.type === 'function_call' ? item.arguments : item.input,
          },
        ],
      };
    case 'function_call_output':
    case 'custom_tool_call_output': {
      if (!calls.has(item.call_id)) {
        throw invalid(
          `input.${index}.call_id`,
          `No call with call_id '${item.call_id}' comes before this output: send its ${item.type.replace('_output', '')} item first.`,
        );
      }
      const content = textOf(item.output);
      return content === undefined ? undefined : { role: 'tool', content };
    }
    default:
      return item satisfies never;
  }
}

/** The user turn that asks the question, listing the answers it takes. */
function askOf(question: DecisionQuestion, instructions: string): string {
  switch (question.type) {
    case 'predicate':
      return `Statement: ${instructions}\n\nIs the statement true? Answer yes or no.`;
    case 'choice':
      return `${instructions}\n\nAnswer with exactly one of these options:\n${question.choices
        .map((choice) => listed(String(choice.value), choice.description))
        .join('\n')}`;
    case 'score':
      return `${instructions}\n\nAnswer with exactly one of these levels, from lowest to highest:\n${question.levels
        .map((level) => listed(level.label, level.description))
        .join('\n')}`;
    default:
      return question satisfies never;
  }
}

function listed(label: string, description: string | undefined): string {
  return description ? `- ${label}: ${description}` : `- ${label}`;
}

/** Names are unique; a choice's values and a score's labels read differently to the model. */
function checkQuestions(questions: readonly DecisionQuestion[]): void {
  const names = new Map<string, number>();
  questions.forEach((question, index) => {
    if (question.name !== undefined) {
      const earlier = names.get(question.name);
      if (earlier !== undefined) {
        throw invalid(
          `questions.${index}.name`,
          `'${question.name}' already names question ${earlier}: give each question its own name.`,
        );
      }
      names.set(question.name, index);
    }
    const texts =
      question.type === 'choice'
        ? question.choices.map((choice) => ({
            text: String(choice.value),
            field: 'choices',
            key: 'value',
          }))
        : question.type === 'score'
          ? question.levels.map((level) => ({ text: level.label, field: 'levels', key: 'label' }))
          : [];
    const seen = new Map<string, number>();
    texts.forEach(({ text, field, key }, at) => {
      const earlier = seen.get(text);
      if (earlier !== undefined) {
        throw invalid(
          `questions.${index}.${field}.${at}.${key}`,
          `'${text}' reads the same as ${field}.${earlier} (a string and a boolean with the same text are distinct values, but the model reads them alike): make each one different.`,
        );
      }
      seen.set(text, at);
    });
  });
}

export function decisionToNative(body: DecisionCreateRequest): DecisionPlan {
  checkQuestions(body.questions);
  const messages = inputMessages(body.input);
  const asked: NativeScoringRequest['questions'] = [];
  const questions = body.questions.map((question): QuestionPlan => {
    const name = question.name ?? null;
    const instructions = textOf(
      typeof question.instructions === 'string' ? question.instructions : question.instructions,
    );
    // An image in the input or in the question: this model can't be asked it.
    if (messages === undefined || instructions === undefined) return { type: 'refusal', name };
    const ask = askOf(question, instructions);
    switch (question.type) {
      case 'predicate':
        asked.push({ ask, answers: [...PREDICATE_ANSWERS] });
        return { type: 'predicate', name };
      case 'choice': {
        const values = question.choices.map((choice) => choice.value);
        asked.push({ ask, answers: values.map(String) });
        return { type: 'choice', name, values };
      }
      case 'score': {
        const labels = question.levels.map((level) => level.label);
        asked.push({ ask, answers: labels });
        return { type: 'score', name, labels };
      }
      default:
        return question satisfies never;
    }
  });
  return { native: { model: body.model, messages: messages ?? [], questions: asked }, questions };
}
