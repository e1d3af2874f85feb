import { describe, expect, it } from 'vitest';
import { sseEvents } from './sse';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('sseEvents', () => {
  it('yields each event once whole, however the bytes are split', async () => {
    const events = [];
    for await (const event of sseEvents(
      streamOf(
        'event: response.output_text.delta\ndata: {"type":"a","delta":"h',
        'é"}\n',
        '\ndata: {"type":"b"}\r\n\r\n: a comment\n\ndata: [DONE]\n\n',
      ),
    )) {
      events.push(event);
    }
    expect(events).toEqual([{ type: 'a', delta: 'hé' }, { type: 'b' }]);
  });
});
