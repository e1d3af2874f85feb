import type { Message } from './protocols.js';

/**
 * The conversation cut to `budget` tokens: system messages kept, the oldest
 * other turns dropped first, the last message always kept. `count` gives a
 * message's tokens (e.g. `LlmClient.countTokens`).
 */
export async function fitToBudget(
  messages: readonly Message[],
  budget: number,
  count: (text: string) => number | Promise<number>,
): Promise<Message[]> {
  const sizes = await Promise.all(messages.map((message) => count(message.content)));
  const kept = messages.map((message, index) => ({ message, size: sizes[index] ?? 0 }));
  let total = kept.reduce((sum, item) => sum + item.size, 0);
  while (total > budget) {
    const oldest = kept.findIndex(
      (item, index) => item.message.role !== 'system' && index < kept.length - 1,
    );
    if (oldest < 0) break;
    total -= kept[oldest]?.size ?? 0;
    kept.splice(oldest, 1);
  }
  return kept.map((item) => item.message);
}
