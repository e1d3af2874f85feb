/** One server-sent event's JSON data. */
export type SseData = Record<string, unknown> & { type?: string };

/**
 * The `data:` payloads of an SSE body as they arrive (OpenAI's streams: one JSON per
 * event; `[DONE]` ends chat completions' streams).
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseData> {
  const reader = body
    .pipeThrough(new TextDecoderStream() as ReadableWritablePair<string, Uint8Array>)
    .getReader();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += value;
      let end = buffered.search(/\r?\n\r?\n/);
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
        const data = block
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data && data !== '[DONE]') yield JSON.parse(data) as SseData;
        end = buffered.search(/\r?\n\r?\n/);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
