import { randomBytes } from 'node:crypto';
import {
  type LlamaContextSequence,
  LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  LlamaText,
  type SequenceEvaluateOptions,
  type Token,
  TokenBias,
} from 'node-llama-cpp';
import { TOOL_CALL_OPEN } from './chat-prompt.js';
import { IncrementalDecoder } from './incremental-decoder.js';
import { TextMatcher } from './text-matcher.js';
import type {
  FinishReason,
  GenerationJob,
  GenerationResult,
  GenerationSink,
  ToolCall,
} from './types.js';

/** Recent tokens the presence/frequency penalties look at. */
const PENALTY_WINDOW = 64;

function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

type TextPhaseEnd = { kind: 'end'; reason: FinishReason } | { kind: 'tool_call'; carry: Token[] };

/**
 * Runs one generation on a sequence whose KV cache already holds the reused
 * prompt prefix: evaluates `input` (the rest of the prompt), then samples
 * until end-of-generation, a stop string, `maxTokens`, or an abort.
 *
 * Tool calls are generated in stages, each constrained by a grammar where it
 * matters: the opening tag (forced when a call is required, detected in free
 * text otherwise), the function name (one of the offered names), then the
 * arguments (the tool's JSON schema). So even a tiny model emits calls whose
 * arguments validate.
 */
export async function generate(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  input: Token[],
  reusedTokens: number,
  job: GenerationJob,
  sink: GenerationSink,
): Promise<GenerationResult> {
  const startedAt = performance.now();
  let firstTokenAt: number | undefined;
  const generated: Token[] = [];
  const toolCalls: ToolCall[] = [];
  let text = '';
  const llama = model.llama;

  const tokenBias = buildTokenBias(model, job);
  const baseOptions: SequenceEvaluateOptions = {
    temperature: job.sampling.temperature,
    ...(job.sampling.topP !== undefined ? { topP: job.sampling.topP } : {}),
    ...(job.sampling.topK !== undefined ? { topK: job.sampling.topK } : {}),
    ...(job.sampling.minP !== undefined ? { minP: job.sampling.minP } : {}),
    ...(job.sampling.seed !== undefined ? { seed: job.sampling.seed } : {}),
    ...(tokenBias ? { tokenBias } : {}),
    ...(job.sampling.presencePenalty || job.sampling.frequencyPenalty
      ? {
          repeatPenalty: {
            punishTokens: () => generated.slice(-PENALTY_WINDOW),
            penalty: 1,
            presencePenalty: job.sampling.presencePenalty ?? 0,
            frequencyPenalty: job.sampling.frequencyPenalty ?? 0,
          },
        }
      : {}),
  };
  const withGrammar = (grammar: LlamaGrammar): SequenceEvaluateOptions => ({
    ...baseOptions,
    grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }),
  });
  const tokenize = (forced: string) => model.tokenize(forced, false, 'trimLeadingSpace');
  const countToken = (token: Token) => {
    firstTokenAt ??= performance.now();
    generated.push(token);
  };
  const budgetLeft = () => job.maxTokens - generated.length;
  const roomFor = (tokens: number) => sequence.nextTokenIndex + tokens < sequence.contextSize;

  /** Free (or response_format-constrained) text until a stop, the budget, or a tool-call tag. */
  const textPhase = async (phaseInput: Token[], emitContent: boolean): Promise<TextPhaseEnd> => {
    const grammar = emitContent ? job.grammar : undefined;
    const needles = [...job.stop, ...grammarStops(grammar), ...(job.tools ? [TOOL_CALL_OPEN] : [])];
    const matcher = new TextMatcher(needles);
    const decoder = new IncrementalDecoder(model);
    const whitespace = new TrailingWhitespace(grammar?.trimWhitespaceSuffix ?? false);
    const options = grammar ? withGrammar(grammar) : baseOptions;
    const emit = (raw: string) => {
      const delta = whitespace.push(raw);
      if (!emitContent || delta.length === 0) return;
      text += delta;
      sink.text(delta);
    };
    if (budgetLeft() <= 0) return { kind: 'end', reason: 'length' };
    for await (const token of sequence.evaluate(phaseInput, options)) {
      if (job.signal.aborted) return { kind: 'end', reason: 'stop' };
      if (job.stopTokens.includes(token)) return { kind: 'end', reason: 'stop' };
      countToken(token);
      const { emit: safe, matched } = matcher.push(decoder.push(token));
      emit(safe);
      if (matched === TOOL_CALL_OPEN) return { kind: 'tool_call', carry: [token] };
      if (matched !== undefined) return { kind: 'end', reason: 'stop' };
      if (budgetLeft() <= 0) {
        emit(matcher.push(decoder.flush()).emit + matcher.flush());
        return { kind: 'end', reason: 'length' };
      }
    }
    emit(matcher.push(decoder.flush()).emit + matcher.flush());
    return { kind: 'end', reason: 'stop' };
  };

  /** Samples under `grammar` until it is complete (end of generation), calling `onText` per piece. */
  const grammarPhase = async (
    phaseInput: Token[],
    grammar: LlamaGrammar,
    onText: (piece: string) => void,
  ): Promise<'complete' | 'length' | 'aborted'> => {
    const decoder = new IncrementalDecoder(model);
    const matcher = new TextMatcher(grammarStops(grammar));
    const whitespace = new TrailingWhitespace(grammar.trimWhitespaceSuffix);
    const emit = (raw: string) => {
      const piece = whitespace.push(raw);
      if (piece.length > 0) onText(piece);
    };
    for await (const token of sequence.evaluate(phaseInput, withGrammar(grammar))) {
      if (job.signal.aborted) return 'aborted';
      countToken(token);
      const { emit: safe, matched } = matcher.push(decoder.push(token));
      emit(safe);
      if (matched !== undefined) return 'complete';
      if (budgetLeft() <= 0) {
        emit(matcher.push(decoder.flush()).emit + matcher.flush());
        return 'length';
      }
    }
    emit(matcher.push(decoder.flush()).emit + matcher.flush());
    return 'complete';
  };

  /** One tool call: name (forced or chosen by grammar), then grammar-constrained arguments. */
  const callPhase = async (phaseInput: Token[]): Promise<'complete' | 'length' | 'aborted'> => {
    const tools = job.tools?.tools ?? [];
    const opening = tokenize('\n{"name": "');
    let nextInput = [...phaseInput, ...opening];
    let name: string;
    const only = tools.length === 1 ? tools[0] : undefined;
    if (only) {
      name = only.name;
      nextInput = [...nextInput, ...tokenize(`${name}", "arguments": `)];
    } else {
      const names = new LlamaGrammar(llama, {
        grammar: `root ::= (${tools.map((tool) => `"${tool.name}"`).join(' | ')}) "\\""`,
      });
      let chosen = '';
      const outcome = await grammarPhase(nextInput, names, (piece) => {
        chosen += piece;
      });
      if (outcome !== 'complete') return outcome;
      name = chosen.replace(/"$/, '');
      nextInput = tokenize(', "arguments": ');
    }
    const tool = tools.find((candidate) => candidate.name === name);
    if (!tool) return 'length'; // unreachable: the grammar only admits offered names
    if (!roomFor(nextInput.length + 2)) return 'length';
    const index = toolCalls.length;
    const call: ToolCall = { id: newToolCallId(), name, arguments: '' };
    toolCalls.push(call);
    sink.toolCallStart(index, { id: call.id, name });
    return grammarPhase(nextInput, tool.argumentsGrammar, (piece) => {
      call.arguments += piece;
      sink.toolCallArguments(index, piece);
    });
  };

  let finish: FinishReason | undefined;
  let pending = input;
  let phase: 'text' | 'call' = job.tools?.choice === 'required' ? 'call' : 'text';
  if (phase === 'call') pending = [...pending, ...tokenize(TOOL_CALL_OPEN)];

  while (finish === undefined) {
    if (job.signal.aborted) {
      finish = 'stop';
      break;
    }
    if (phase === 'text') {
      const end = await textPhase(pending, toolCalls.length === 0);
      if (end.kind === 'tool_call') {
        pending = end.carry;
        phase = 'call';
      } else {
        finish = end.reason === 'stop' && toolCalls.length > 0 ? 'tool_calls' : end.reason;
      }
      continue;
    }
    const outcome = await callPhase(pending);
    if (outcome === 'length') finish = 'length';
    else if (outcome === 'aborted') finish = 'stop';
    else if (job.tools?.parallel && budgetLeft() > 0) {
      // Another call may follow; anything else the model says after a call is dropped.
      pending = tokenize('}\n</tool_call>\n');
      phase = 'text';
    } else finish = 'tool_calls';
  }

  const endedAt = performance.now();
  return {
    finishReason: finish,
    text,
    toolCalls,
    promptTokens: reusedTokens + input.length,
    completionTokens: generated.length,
    timings: {
      promptEvaluated: input.length,
      promptCached: reusedTokens,
      timeToFirstTokenMs: (firstTokenAt ?? endedAt) - startedAt,
      decodeMs: firstTokenAt === undefined ? 0 : endedAt - firstTokenAt,
    },
  };
}

/** Plain-text stop triggers a grammar declares (JSON grammars: a run of newlines once the value is complete). */
function grammarStops(grammar: LlamaGrammar | undefined): string[] {
  if (!grammar) return [];
  return grammar.stopGenerationTriggers.flatMap((trigger) => {
    const text =
      typeof trigger === 'string'
        ? trigger
        : Array.isArray(trigger)
          ? undefined
          : LlamaText(trigger as LlamaText).toString();
    return text ? [text] : [];
  });
}

/**
 * Holds back trailing whitespace: grammars that end in optional whitespace
 * (JSON) have it trimmed, so it is only emitted once more text follows it.
 */
class TrailingWhitespace {
  private pending = '';

  constructor(private readonly trim: boolean) {}

  push(text: string): string {
    if (!this.trim) return text;
    const all = this.pending + text;
    const trailing = /\s*$/.exec(all)?.[0] ?? '';
    this.pending = trailing;
    return all.slice(0, all.length - trailing.length);
  }
}

function buildTokenBias(model: LlamaModel, job: GenerationJob): TokenBias | undefined {
  const logitBias = job.sampling.logitBias ?? {};
  const entries = Object.entries(logitBias);
  if (entries.length === 0 && !job.sampling.ignoreEos) return undefined;
  const bias = TokenBias.for(model);
  for (const [token, value] of entries) {
    bias.set(Number(token) as Token, value <= -100 ? 'never' : { logit: value });
  }
  if (job.sampling.ignoreEos) {
    for (const token of [model.tokens.eos, model.tokens.eot]) {
      if (token !== null && token !== undefined) bias.set(token, 'never');
    }
  }
  return bias;
}
