import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderMarkdownBlocks } from './markdown';

/* What a model's answer becomes on the page: golden HTML for each kind of content. */
describe('renderMarkdown', () => {
  it('renders Markdown and highlights known languages', () => {
    expect(renderMarkdown('# Hi\n\nSome *text* and `code`.\n\n```js\nconst a = 1;\n```')).toBe(
      '<h1>Hi</h1>\n<p>Some <em>text</em> and <code>code</code>.</p>\n' +
        '<pre data-language="js"><code class="hljs"><span class="hljs-keyword">const</span> a = <span class="hljs-number">1</span>;</code></pre>\n',
    );
  });

  it('shows code in an unknown language as text, and an unclosed fence (still streaming) as code', () => {
    expect(renderMarkdown('```brainfuck\n<+>\n```')).toBe(
      '<pre data-language="brainfuck"><code class="hljs">&lt;+&gt;</code></pre>\n',
    );
    expect(renderMarkdown('```python\ndef f(')).toContain('<span class="hljs-keyword">def</span>');
  });

  it('never passes HTML through: a model cannot run script or load anything', () => {
    const html = renderMarkdown(
      '<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> <b>bold</b>',
    );
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('keeps web links (new tab, no referrer), drops script links, turns images into links', () => {
    expect(renderMarkdown('[a](https://example.com/x?y=1&z=2)')).toBe(
      '<p><a href="https://example.com/x?y=1&amp;z=2" target="_blank" rel="noopener noreferrer">a</a></p>\n',
    );
    expect(renderMarkdown('[a](javascript:alert(1)) [b](data:text/html,x)')).toBe('<p>a b</p>\n');
    expect(renderMarkdown('![cat](https://example.com/cat.png)')).toBe(
      '<p><a href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer">[image: cat]</a></p>\n',
    );
  });

  it('renders block by block what it renders whole, reference links included', () => {
    const answer = 'See [docs][1].\n\nMore text.\n\n[1]: https://a.example/';
    expect(renderMarkdownBlocks('See [docs][1].\n\nMore')).not.toContain('href');
    // The definition arrives later: the earlier block links now.
    expect(renderMarkdownBlocks(answer).join('')).toContain('<a href="https://a.example/"');
    // Another answer, the same paragraph, another definition: its own link.
    expect(renderMarkdownBlocks(answer.replace('a.example', 'b.example')).join('')).toContain(
      '<a href="https://b.example/"',
    );
    const plain = 'One.\n\n```js\nconst a = 1;\n```\n\n- x\n- y\n';
    expect(renderMarkdownBlocks(plain).join('').replace(/\n/g, '')).toBe(
      renderMarkdown(plain).replace(/\n/g, ''),
    );
  });
});
