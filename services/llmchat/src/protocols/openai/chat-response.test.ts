import { describe, expect, it } from 'vitest';
import { ChatChunkBuilder } from './chat-response.js';

describe('ChatChunkBuilder', () => {
  it('serializes content deltas exactly as the generic chunk, for any text', () => {
    const builder = new ChatChunkBuilder('chatcmpl-1', 1700000000, 'm"odel');
    for (const text of ['hello', ' ', '"quoted"\n', '\\', 'émoji 🐱', '\u0000', '</script>']) {
      expect(builder.contentJson(text)).toBe(JSON.stringify(builder.delta({ content: text })));
    }
    expect(JSON.parse(builder.contentJson('x'))).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'm"odel',
      choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }],
    });
  });
});
