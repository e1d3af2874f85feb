/** What a streamed chat completion looked like on the wire. */
export interface StreamCheck {
  status: number;
  /** Problems with the SSE framing or chunks (empty: well-formed). */
  problems: string[];
  chunks: number;
}

/**
 * Reads a chat completion stream and checks it as a strict client would:
 * `data: <json>` events separated by blank lines, chunks of object
 * `chat.completion.chunk` with one id, a finish reason, then `data: [DONE]`.
 */
export async function checkStream(response: Response): Promise<StreamCheck> {
  const problems: string[] = [];
  if (!response.ok || !response.body)
    return { status: response.status, problems: [`HTTP ${response.status}`], chunks: 0 };
  if (!response.headers.get('content-type')?.startsWith('text/event-stream'))
    problems.push('content-type is not text/event-stream');
  const text = await response.text();
  const events = text.split('\n\n');
  if (events.pop() !== '') problems.push('the stream does not end with a blank line');
  if (events.at(-1) !== 'data: [DONE]') problems.push('the stream does not end with data: [DONE]');
  let id: string | undefined;
  let finished = false;
  let chunks = 0;
  for (const event of events.slice(0, -1)) {
    if (!event.startsWith('data: ')) {
      problems.push(`not a data event: ${event.slice(0, 60)}`);
      continue;
    }
    let chunk: { id?: string; object?: string; choices?: Array<{ finish_reason?: string | null }> };
    try {
      chunk = JSON.parse(event.slice(6));
    } catch {
      problems.push(`not JSON: ${event.slice(0, 60)}`);
      continue;
    }
    chunks += 1;
    if (chunk.object !== 'chat.completion.chunk') problems.push(`object ${chunk.object}`);
    id ??= chunk.id;
    if (chunk.id !== id) problems.push('chunk ids differ');
    if (chunk.choices?.[0]?.finish_reason) finished = true;
  }
  if (!finished) problems.push('no finish_reason');
  return { status: response.status, problems, chunks };
}
