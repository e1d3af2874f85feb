import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked, type Tokens } from 'marked';

// The languages models write most; each one costs bundle size, others show unhighlighted.
for (const [name, language] of Object.entries({
  bash,
  c,
  css,
  go,
  javascript,
  json,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
})) {
  hljs.registerLanguage(name, language);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** Links a model writes may go to the web or to mail, never run script (`javascript:`). */
function safeHref(href: string): string | undefined {
  try {
    const url = new URL(href, 'https://relative.invalid/');
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A model's answer is untrusted text: raw HTML in it is shown as text, links open in a new
 * tab without a referrer, images are links (nothing is loaded from the internet), and code
 * blocks are highlighted when their language is known.
 */
const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    code({ text, lang }: Tokens.Code) {
      const language = (lang ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      const known = language && hljs.getLanguage(language);
      const body = known
        ? hljs.highlight(text, { language, ignoreIllegals: true }).value
        : escapeHtml(text);
      const label = language ? ` data-language="${escapeHtml(language)}"` : '';
      return `<pre${label}><code class="hljs">${body}</code></pre>\n`;
    },
    link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link) {
      const text = this.parser.parseInline(token.tokens);
      const href = safeHref(token.href);
      if (!href) return text;
      return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
    image({ href, text }: Tokens.Image) {
      const safe = safeHref(href);
      const label = escapeHtml(text || href);
      return safe
        ? `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">[image: ${label}]</a>`
        : `[image: ${label}]`;
    },
  },
});

/** An answer (possibly still arriving: an open code fence renders as code) as safe HTML. */
export function renderMarkdown(text: string): string {
  return marked.parse(text, { async: false });
}

/** Rendered blocks by their Markdown source: a finished block is never rendered twice. */
const blockCache = new Map<string, string>();
const BLOCK_CACHE_SIZE = 2_000;

/**
 * The answer as one HTML string per top-level block (paragraph, code block, list…). While an
 * answer streams, only its last block changes: the others come from the cache, and the page
 * replaces only the last block's DOM, so a frame's work does not grow with the answer.
 */
export function renderMarkdownBlocks(text: string): string[] {
  const tokens = marked.lexer(text);
  // A block's HTML depends on its source alone, unless the answer defines reference links
  // (`[1]: https://…`, possibly arriving after the block that uses them): then nothing is
  // cached. The last block is still growing while an answer streams: never cached either.
  const cacheable = Object.keys(tokens.links).length === 0;
  return tokens.map((token, index) => {
    const render = () => marked.parser(Object.assign([token], { links: tokens.links }));
    if (!cacheable || index === tokens.length - 1) return render();
    const cached = blockCache.get(token.raw);
    if (cached !== undefined) return cached;
    const html = render();
    if (blockCache.size >= BLOCK_CACHE_SIZE) {
      const oldest = blockCache.keys().next().value;
      if (oldest !== undefined) blockCache.delete(oldest);
    }
    blockCache.set(token.raw, html);
    return html;
  });
}
