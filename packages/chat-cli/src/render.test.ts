import { describe, expect, it } from 'vitest';
import { AnswerRenderer, styles } from './render.js';

const tagged = {
  dim: (text: string) => (text ? `<dim>${text}</dim>` : ''),
  bold: (text: string) => text,
  cyan: (text: string) => (text ? `<prose>${text}</prose>` : ''),
  yellow: (text: string) => (text ? `<code>${text}</code>` : ''),
  red: (text: string) => text,
  green: (text: string) => text,
};

/** Renders `answer` fed in pieces of `size` characters. */
function render(answer: string, size: number): string {
  const renderer = new AnswerRenderer(tagged);
  let out = '';
  for (let at = 0; at < answer.length; at += size)
    out += renderer.push(answer.slice(at, at + size));
  return (out + renderer.flush()).replace(/<\/(prose|code)><\1>/g, '');
}

describe('the answer renderer', () => {
  const answer = 'Use this:\n```js\nconst a = 1;\n```\nDone.';

  it('styles prose and fenced code apart, however the stream is cut', () => {
    const expected =
      '<prose>Use this:\n</prose><dim>```js</dim>\n<code>const a = 1;\n</code><dim>```</dim>\n<prose>Done.</prose>';
    for (const size of [1, 2, 3, 5, 100]) expect(render(answer, size)).toBe(expected);
  });

  it('leaves text plain when colour is off', () => {
    const renderer = new AnswerRenderer(styles(false));
    expect(renderer.push(answer) + renderer.flush()).toBe(answer);
  });
});
