import { randomBytes, randomInt } from 'node:crypto';
import {
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  LlamaText,
  type Token,
} from 'node-llama-cpp';
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from './chat-prompt.js';
import type { CompiledConstraints, JsonShape } from './constraints.js';
import { IncrementalDecoder } from './incremental-decoder.js';
import { JsonCloser } from './json-closer.js';
import type { TokenLogprob } from './logprobs.js';
import { createProbeSampler, createSampler, tokenBiasOf } from './sampler.js';
import type { Sequence } from './sequence.js';
import { TextMatcher } from './text-matcher.js';
import type {
  FinishReason,
  GenerationJob,
  GenerationResult,
  GenerationSink,
  TextLogprob,
  ToolCall,
} from './types.js';

/** Seeds are unsigned 32-bit in llama.cpp. */
const SEED_RANGE = 2 ** 32;

function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

type TextPhaseEnd =
  | { kind: 'end'; reason: FinishReason; stopSequence?: string }
  | { kind: 'tool_call'; carry: Token[] };

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
  sequence: Sequence,
  input: Token[],
  reusedTokens: number,
  job: GenerationJob,
  constraints: CompiledConstraints,
  sink: GenerationSink,
  signal: AbortSignal,
): Promise<GenerationResult> {
  const startedAt = performance.now();
  let firstTokenAt: number | undefined;
  const generated: Token[] = [];
  const toolCalls: ToolCall[] = [];
  let text = '';

  const bias = tokenBiasOf(model, job.sampling);
  // Without a seed, llama.cpp's sampler seeds itself from the clock in whole seconds: two
  // requests in the same second would get the same answer. One fresh seed per generation.
  const sampling = { ...job.sampling, seed: job.sampling.seed ?? randomInt(SEED_RANGE) };
  /** A sampler for one phase, optionally under a grammar; penalties see everything generated so far. */
  const sampler = (grammar?: LlamaGrammar) =>
    createSampler(model, {
      sampling,
      bias,
      history: generated,
      ...(grammar ? { grammarState: new LlamaGrammarEvaluationState({ model, grammar }) } : {}),
    });
  /** With logprobs asked: each generated token's, read beside the sampler by a probe of its own. */
  const logprobs = job.logprobs
    ? { top: job.logprobs.top, probe: createProbeSampler(model), into: [] as TokenLogprob[] }
    : undefined;
  const tokenize = (forced: string) => model.tokenize(forced, false, 'trimLeadingSpace');
  /** The log-probabilities of the answer's text tokens (not of tool calls), as reported. */
  const contentLogprobs: TextLogprob[] = [];
  /** A token the answer keeps; `content`: part of its text (a tool call's tokens are not). */
  const countToken = (token: Token, content = true) => {
    firstTokenAt ??= performance.now();
    generated.push(token);
    const entry = logprobs?.into.at(-1);
    if (content && entry?.token === token) {
      const reported = withText(model, entry, generated.at(-2) ?? job.promptTokens.at(-1));
      contentLogprobs.push(reported);
      sink.logprob?.(reported);
    }
  };
  const budgetLeft = () => job.maxTokens - generated.length;
  const roomFor = (tokens: number) => sequence.hasRoomFor(tokens + 1);
  /** Tokens of closing text appended (not sampled) to JSON cut by the budget. */
  const closingTokens: Token[] = [];

  /**
   * For JSON output: follows the text, and once the budget left only covers closing
   * what is open (strings, required properties, objects, arrays), says so; the
   * phase then appends that closing instead of sampling on, so the cut answer parses.
   */
  const jsonBudget = (shape: JsonShape | undefined) => {
    if (!shape) return undefined;
    const closer = new JsonCloser(shape.schema, shape.defs);
    return {
      push: (raw: string) => closer.push(raw),
      mustClose: () => {
        const suffix = closer.closing();
        // Closing text is ASCII: never more tokens than characters, so tokenize only near the end.
        if (suffix.length === 0 || budgetLeft() > suffix.length) return false;
        return budgetLeft() <= tokenize(suffix).length;
      },
      closing: () => {
        const suffix = closer.closing();
        if (suffix.length > 0) closingTokens.push(...tokenize(suffix));
        return suffix;
      },
    };
  };

  /** Free (or response_format-constrained) text until a stop, the budget, or a tool-call tag. */
  const textPhase = async (phaseInput: Token[]): Promise<TextPhaseEnd> => {
    const grammar = constraints.answer;
    const needles = [
      ...job.stop,
      ...grammarStops(grammar),
      ...(constraints.tools ? [TOOL_CALL_OPEN] : []),
    ];
    const matcher = new TextMatcher(needles);
    const decoder = new IncrementalDecoder(model);
    const whitespace = new TrailingWhitespace(grammar?.trimWhitespaceSuffix ?? false);
    const json = jsonBudget(constraints.answerShape);
    const emit = (raw: string) => {
      json?.push(raw);
      const delta = whitespace.push(raw);
      if (delta.length === 0) return;
      text += delta;
      sink.text(delta);
    };
    /** Out of budget: what is held back, then (for JSON) what closes it. */
    const cut = (): TextPhaseEnd => {
      emit(matcher.push(decoder.flush()).emit + matcher.flush());
      if (json) emit(json.closing());
      return { kind: 'end', reason: 'length' };
    };
    if (budgetLeft() <= 0) return cut();
    for await (const token of sequence.evaluate(phaseInput, sampler(grammar), logprobs)) {
      if (signal.aborted) return { kind: 'end', reason: 'stop' };
      if (job.stopTokens.includes(token)) return { kind: 'end', reason: 'stop' };
      countToken(token);
      const { emit: safe, matched } = matcher.push(decoder.push(token));
      emit(safe);
      if (matched === TOOL_CALL_OPEN) return { kind: 'tool_call', carry: [token] };
      if (matched !== undefined) {
        // A stop string (not a grammar's own end), named in the result.
        const named = job.stop.includes(matched) ? { stopSequence: matched } : {};
        return { kind: 'end', reason: 'stop', ...named };
      }
      if (budgetLeft() <= 0 || json?.mustClose()) return cut();
    }
    // The sequence ended: end-of-generation, or no room left in the context.
    if (!sequence.hasRoomFor(1)) return cut();
    emit(matcher.push(decoder.flush()).emit + matcher.flush());
    return { kind: 'end', reason: 'stop' };
  };

  /** Samples under `grammar` until it is complete (end of generation), calling `onText` per piece. */
  const grammarPhase = async (
    phaseInput: Token[],
    grammar: LlamaGrammar,
    onText: (piece: string) => void,
    shape?: JsonShape,
  ): Promise<'complete' | 'length' | 'aborted'> => {
    const decoder = new IncrementalDecoder(model);
    const matcher = new TextMatcher(grammarStops(grammar));
    const whitespace = new TrailingWhitespace(grammar.trimWhitespaceSuffix);
    const json = jsonBudget(shape);
    const emit = (raw: string) => {
      json?.push(raw);
      const piece = whitespace.push(raw);
      if (piece.length > 0) onText(piece);
    };
    const cut = (): 'length' => {
      emit(matcher.push(decoder.flush()).emit + matcher.flush());
      if (json) emit(json.closing());
      return 'length';
    };
    for await (const token of sequence.evaluate(phaseInput, sampler(grammar), logprobs)) {
      if (signal.aborted) return 'aborted';
      countToken(token, false);
      const { emit: safe, matched } = matcher.push(decoder.push(token));
      emit(safe);
      if (matched !== undefined) return 'complete';
      if (budgetLeft() <= 0 || json?.mustClose()) return cut();
    }
    if (!sequence.hasRoomFor(1)) return cut();
    emit(matcher.push(decoder.flush()).emit + matcher.flush());
    return 'complete';
  };

  /**
   * One tool call: name (forced or chosen by grammar), then grammar-constrained
   * arguments. The first call streams as it is generated; later ones are held
   * until complete, because a call repeating an earlier one (name and
   * arguments) ends the answer instead: small models otherwise loop on it.
   */
  const callPhase = async (
    phaseInput: Token[],
  ): Promise<'complete' | 'repeated' | 'length' | 'aborted'> => {
    const tools = constraints.tools?.tools ?? [];
    const opening = tokenize('\n{"name": "');
    let nextInput = [...phaseInput, ...opening];
    let name: string;
    const only = tools.length === 1 ? tools[0] : undefined;
    if (only) {
      name = only.name;
      nextInput = [...nextInput, ...tokenize(`${name}", "arguments": `)];
    } else {
      const names = constraints.tools?.names;
      if (!names) return 'length'; // unreachable: compiled whenever there are several tools
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
    const live = index === 0;
    if (live) sink.toolCallStart(index, { id: call.id, name });
    const outcome = await grammarPhase(
      nextInput,
      tool.arguments,
      (piece) => {
        call.arguments += piece;
        if (live) sink.toolCallArguments(index, piece);
      },
      tool.shape,
    );
    if (!live) {
      if (outcome === 'complete' && toolCalls.some((earlier) => sameCall(earlier, call)))
        return 'repeated';
      sink.toolCallStart(index, { id: call.id, name });
      if (call.arguments.length > 0) sink.toolCallArguments(index, call.arguments);
    }
    toolCalls.push(call);
    return outcome;
  };

  /** After a call the model chooses, under a grammar, between another call and the end. */
  const nextCallOrEnd = async (
    phaseInput: Token[],
  ): Promise<'call' | 'end' | 'length' | 'aborted'> => {
    let said = '';
    const callOrEnd = constraints.tools?.callOrEnd;
    if (!callOrEnd) return 'end';
    const outcome = await grammarPhase(phaseInput, callOrEnd, (piece) => {
      said += piece;
    });
    if (outcome !== 'complete') return outcome;
    return said.includes(TOOL_CALL_OPEN) ? 'call' : 'end';
  };

  try {
    let finish: FinishReason = 'tool_calls';
    let stopSequence: string | undefined;
    // A required call starts at once; otherwise the model writes text and may open a call itself.
    let pending =
      constraints.tools?.choice === 'required' ? [...input, ...tokenize(TOOL_CALL_OPEN)] : input;
    let calling = constraints.tools?.choice === 'required';
    if (!calling) {
      const end = await textPhase(pending);
      calling = end.kind === 'tool_call';
      pending = end.kind === 'tool_call' ? end.carry : [];
      finish = end.kind === 'end' ? end.reason : 'tool_calls';
      if (end.kind === 'end') stopSequence = end.stopSequence;
    }
    while (calling) {
      const outcome = await callPhase(pending);
      calling = false;
      if (outcome === 'length') finish = 'length';
      else if (outcome === 'aborted') finish = 'stop';
      else if (outcome === 'repeated') finish = 'tool_calls';
      else if (!constraints.tools?.parallel || budgetLeft() <= 0) finish = 'tool_calls';
      else {
        const decision = await nextCallOrEnd(tokenize(`}\n${TOOL_CALL_CLOSE}\n`));
        calling = decision === 'call';
        pending = [];
        finish = decision === 'length' ? 'length' : decision === 'aborted' ? 'stop' : 'tool_calls';
      }
    }

    const endedAt = performance.now();
    return {
      finishReason: finish,
      ...(stopSequence !== undefined ? { stopSequence } : {}),
      text,
      toolCalls,
      promptTokens: reusedTokens + input.length,
      completionTokens: generated.length + closingTokens.length,
      // The answer's tokens as the client sees it (a continuation evaluates the closing too).
      outputTokens: [...generated, ...closingTokens],
      ...(logprobs ? { logprobs: contentLogprobs } : {}),
      timings: {
        promptEvaluated: input.length,
        promptCached: reusedTokens,
        timeToFirstTokenMs: (firstTokenAt ?? endedAt) - startedAt,
        decodeMs: firstTokenAt === undefined ? 0 : endedAt - firstTokenAt,
      },
    };
  } finally {
    logprobs?.probe.dispose();
  }
}

/** An entry with its tokens' text, each read after the token before it (its leading space). */
function withText(model: LlamaModel, entry: TokenLogprob, previous?: Token): TextLogprob {
  const context = previous === undefined ? [] : [previous];
  const textOf = (token: Token) => model.detokenize([token], true, context);
  return {
    token: entry.token,
    text: textOf(entry.token),
    logprob: entry.logprob,
    top: entry.top.map((alternative) => ({ ...alternative, text: textOf(alternative.token) })),
  };
}

/** Two calls are the same when name and arguments (as JSON values) are. */
function sameCall(a: ToolCall, b: ToolCall): boolean {
  if (a.name !== b.name) return false;
  try {
    return JSON.stringify(JSON.parse(a.arguments)) === JSON.stringify(JSON.parse(b.arguments));
  } catch {
    return a.arguments === b.arguments;
  }
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
