import { describe, expect, it } from 'vitest';
import { renderToolCall, TOOL_CALL_OPEN, toChatHistory, toolInstructions } from './chat-prompt.js';

const tool = {
  name: 'get_weather',
  description: 'Weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};

describe('toChatHistory', () => {
  it('appends tool instructions to the system prompt and ends with the answer to generate', () => {
    const history = toChatHistory(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
      ],
      [tool],
    );
    expect(history[0]).toEqual({
      type: 'system',
      text: `Be brief.\n\n${toolInstructions([tool])}`,
    });
    expect(history.at(-1)).toEqual({ type: 'model', response: [] });
    expect(toolInstructions([tool])).toContain('"name":"get_weather"');
  });

  it('adds a system turn for tools when there is none, and none without tools', () => {
    expect(toChatHistory([{ role: 'user', content: 'x' }], [tool])[0]?.type).toBe('system');
    expect(toChatHistory([{ role: 'user', content: 'x' }], [])[0]?.type).toBe('user');
  });

  it('renders assistant calls as the model writes them and merges consecutive tool results into one turn', () => {
    const history = toChatHistory(
      [
        { role: 'user', content: 'Two cities' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: '1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
            { id: '2', name: 'get_weather', arguments: '{"city":"Lima"}' },
          ],
        },
        { role: 'tool', content: '5C' },
        { role: 'tool', content: '20C' },
      ],
      [],
    );
    expect(history[1]).toEqual({
      type: 'model',
      response: [
        `${renderToolCall('get_weather', '{"city":"Oslo"}')}\n${renderToolCall('get_weather', '{"city":"Lima"}')}`,
      ],
    });
    expect(renderToolCall('f', '{}')).toBe(
      `${TOOL_CALL_OPEN}\n{"name": "f", "arguments": {}}\n</tool_call>`,
    );
    expect(history[2]).toEqual({
      type: 'user',
      text: '<tool_response>\n5C\n</tool_response>\n<tool_response>\n20C\n</tool_response>',
    });
    expect(history).toHaveLength(4);
  });
});
