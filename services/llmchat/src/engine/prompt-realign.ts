import type { Token } from 'node-llama-cpp';

/** What realignment needs of the model's tokenizer. */
export interface TokenText {
  /** The text of `tokens` following `context` (the tokens before them decide leading spaces). */
  detokenize(tokens: readonly Token[], context: readonly Token[]): string;
  /** Control tokens (end of turn, role markers): they only ever match themselves. */
  isSpecial(token: Token): boolean;
}

/** How far past the shared prefix realignment looks (the earlier answer is usually far shorter). */
const WINDOW = 4096;
/** Rounds of realign-then-extend: one per earlier answer the prompt and cache spell differently. */
const ROUNDS = 4;

export interface Realigned {
  /** The prompt to evaluate: the same text, spelled with the cache's tokens where they differ. */
  prompt: readonly Token[];
  /** Leading tokens of `prompt` that the cache holds. */
  shared: number;
}

export function commonPrefixLength(a: readonly Token[], b: readonly Token[], from = 0): number {
  const max = Math.min(a.length, b.length);
  let index = from;
  while (index < max && a[index] === b[index]) index++;
  return index;
}

/**
 * Reuses a cached answer that the new prompt spells with other tokens.
 *
 * A sequence's cache holds an answer as the tokens the model generated; the next turn's
 * prompt renders that answer as text and tokenizes it again, often into other tokens
 * (" Hello" generated as " Hel"+"lo", a random model's odd pieces), so a plain token
 * prefix match stops at the answer's first token and the whole answer and everything after
 * it is evaluated again. Here, where the prompt and the cache part, the two are decoded side
 * by side until they spell the same text at a token boundary of each; the prompt takes the
 * cache's tokens up to there (the model's own spelling of the same text) and matching goes
 * on. Control tokens match only themselves, so text that merely looks like a role marker
 * never stands in for one. A realigned prompt longer than `maxLength` is not used.
 */
export function realignPrompt(
  cached: readonly Token[],
  prompt: readonly Token[],
  text: TokenText,
  maxLength: number,
): Realigned {
  let current = prompt;
  let shared = commonPrefixLength(cached, current);
  for (let round = 0; round < ROUNDS; round++) {
    if (shared >= cached.length || shared >= current.length) break;
    const sync = findSync(cached, current, shared, text);
    if (!sync) break;
    const spliced = [
      ...current.slice(0, shared),
      ...cached.slice(shared, sync.cachedEnd),
      ...current.slice(sync.promptEnd),
    ];
    if (spliced.length > maxLength) break;
    current = spliced;
    shared = commonPrefixLength(cached, current, sync.cachedEnd);
  }
  return { prompt: current, shared };
}

/**
 * The furthest points past `from` where cached[from, cachedEnd) and prompt[from, promptEnd)
 * decode to the same text, or undefined when they part at once.
 */
function findSync(
  cached: readonly Token[],
  prompt: readonly Token[],
  from: number,
  text: TokenText,
): { cachedEnd: number; promptEnd: number } | undefined {
  const context = cached.slice(Math.max(0, from - 8), from);
  const cachedEnd = Math.min(cached.length, from + WINDOW);
  const promptEnd = Math.min(prompt.length, from + WINDOW);
  const piece = (tokens: readonly Token[], index: number) => {
    const token = tokens[index];
    if (token === undefined || text.isSpecial(token)) return undefined;
    const previous = index > from ? tokens.slice(index - 1, index) : context.slice(-1);
    return text.detokenize([token], previous);
  };
  let a = '';
  let b = '';
  let i = from;
  let j = from;
  const syncs: Array<{ cachedEnd: number; promptEnd: number }> = [];
  for (;;) {
    // Advance the side that has spelled less; a special token or the end stops the search.
    const advanceCached = a.length <= b.length;
    const next = advanceCached
      ? i < cachedEnd
        ? piece(cached, i)
        : undefined
      : j < promptEnd
        ? piece(prompt, j)
        : undefined;
    if (next === undefined) break;
    const before = advanceCached ? a.length : b.length;
    if (advanceCached) {
      a += next;
      i++;
    } else {
      b += next;
      j++;
    }
    // The newly spelled characters must agree with what the other side spelled there.
    const overlapEnd = Math.min(a.length, b.length);
    if (a.slice(before, overlapEnd) !== b.slice(before, overlapEnd)) break;
    if (a.length === b.length && a.length > 0) syncs.push({ cachedEnd: i, promptEnd: j });
  }
  // Pieces decoded one at a time can misspell what a whole run decodes to (a character
  // split over tokens): the furthest sync whose two runs decode alike wins.
  for (let index = syncs.length - 1; index >= Math.max(0, syncs.length - 3); index--) {
    const sync = syncs[index];
    if (!sync) continue;
    if (
      text.detokenize(cached.slice(from, sync.cachedEnd), context) ===
      text.detokenize(prompt.slice(from, sync.promptEnd), context)
    )
      return sync;
  }
  return undefined;
}
