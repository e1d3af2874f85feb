/** One streamed completion as a client sees it: when the first and last content arrived, and how many tokens. */
export interface StreamTiming {
  ttftMs: number;
  /** From first to last content chunk. */
  decodeMs: number;
  completionTokens: number;
}

/**
 * Streams a chat completion over real HTTP (fetch, i.e. undici) and reads the
 * SSE body as an OpenAI client would, timing the content chunks.
 */
export async function streamChat(
  baseUrl: string,
  body: Record<string, unknown>,
): Promise<StreamTiming> {
  const send = () =>
    fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    });
  let startedAt = performance.now();
  let response: Response;
  try {
    response = await send();
  } catch {
    // A keep-alive socket the server closed while idle (llama-server's idle timeout is 5 s):
    // nothing was sent on it, so one retry on a fresh connection is safe.
    startedAt = performance.now();
    response = await send();
  }
  if (!response.ok || !response.body)
    throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffered = '';
  let firstAt: number | undefined;
  let lastAt = startedAt;
  let completionTokens = 0;
  for await (const bytes of response.body) {
    buffered += decoder.decode(bytes, { stream: true });
    let end = buffered.indexOf('\n\n');
    while (end !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\n\n');
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const chunk = JSON.parse(event.slice(6)) as {
        choices: Array<{ delta: { content?: string } }>;
        usage?: { completion_tokens: number };
      };
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
      if (chunk.choices[0]?.delta.content) {
        const now = performance.now();
        firstAt ??= now;
        lastAt = now;
      }
    }
  }
  return {
    ttftMs: (firstAt ?? lastAt) - startedAt,
    decodeMs: lastAt - (firstAt ?? lastAt),
    completionTokens,
  };
}
