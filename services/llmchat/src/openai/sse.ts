import { PassThrough } from 'node:stream';
import { type ApiError, toOpenAIErrorBody } from 'hrserve';

/**
 * A server-sent-events body as OpenAI streams it: `data: <json>\n\n` per
 * chunk, `data: [DONE]` at the end, and an `error` event if something fails
 * after the first byte (before it, errors are plain HTTP responses).
 */
export class SseStream {
  readonly body = new PassThrough();

  send(data: unknown): void {
    this.sendJson(JSON.stringify(data));
  }

  /** For chunks serialized already (the per-token path). */
  sendJson(json: string): void {
    if (!this.body.writableEnded) this.body.write(`data: ${json}\n\n`);
  }

  done(): void {
    if (this.body.writableEnded) return;
    this.body.end('data: [DONE]\n\n');
  }

  fail(error: ApiError): void {
    if (this.body.writableEnded) return;
    this.body.end(`event: error\ndata: ${JSON.stringify(toOpenAIErrorBody(error))}\n\n`);
  }
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Proxies such as nginx would otherwise buffer the stream.
  'x-accel-buffering': 'no',
};
