/** How a stream's chunks (JSON texts) go on the wire. */
export interface Framing {
  headers: Record<string, string>;
  frame(json: string): string;
  /** An error after the first chunk; the stream ends with it. */
  error(json: string): string;
  /** Written last when the stream ends well. */
  end: string;
}

/**
 * Server-sent events as OpenAI streams them: `data: <json>\n\n` per chunk,
 * `data: [DONE]` at the end, an `error` event if something fails after the
 * first byte (before it, errors are plain HTTP responses).
 */
export const SSE: Framing = {
  headers: {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  },
  frame: (json) => `data: ${json}\n\n`,
  error: (json) => `event: error\ndata: ${json}\n\n`,
  end: 'data: [DONE]\n\n',
};

/** Raw text as it is generated (the plain-text encoder's chunks are text, not JSON). */
export const PLAIN_TEXT: Framing = {
  headers: {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  },
  frame: (text) => text,
  error: (text) => text,
  end: '',
};

/** Ollama's stream: one JSON object per line; an error after the first line is an `{"error"}` line. */
export const NDJSON: Framing = {
  headers: { 'content-type': 'application/x-ndjson' },
  frame: (json) => `${json}\n`,
  error: (json) => `${json}\n`,
  end: '',
};

/**
 * The Responses API's stream: each event named on its own `event:` line, as OpenAI sends
 * them, and no `[DONE]` (the last event, `response.completed`, ends it). The encoder writes
 * `type` first, so the name is read without parsing the event.
 */
export const RESPONSES_SSE: Framing = {
  headers: SSE.headers,
  frame: (json) =>
    `event: ${/^\{"type":"([^"]+)"/.exec(json)?.[1] ?? 'message'}\ndata: ${json}\n\n`,
  error: (json) => `event: error\ndata: ${json}\n\n`,
  end: '',
};

/**
 * Anthropic's Messages stream: named events as the Responses API's (`event: message_start`,
 * `content_block_delta`…), ending with `message_stop`; an error is an `error` event.
 */
export const ANTHROPIC_SSE: Framing = RESPONSES_SSE;
