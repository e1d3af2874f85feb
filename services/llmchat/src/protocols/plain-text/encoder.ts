import type { WireEncoder } from '../wire-encoder.js';

/**
 * Plain text for `curl -N` and shell scripts: a first line naming the request
 * (`[request_id=…]`, to find it in logs and traces), then the answer as it is
 * generated, then a newline. Tool calls show as `[tool call name] {arguments}`;
 * an error after the first byte as a last `[error: …]` line. Chunks are raw
 * text here, not JSON: the plain-text framing writes them as they are.
 */
export function plainTextEncoder(requestId: string): WireEncoder<never> {
  return {
    open: () => [`[request_id=${requestId}]\n`],
    event: (event) => {
      switch (event.type) {
        case 'text':
          return [event.delta];
        case 'tool_call_start':
          return [`\n[tool call ${event.name}] `];
        case 'tool_call_arguments':
          return [event.fragment];
        default:
          return [];
      }
    },
    close: () => ['\n'],
    body: () => {
      throw new Error('plain text is always streamed');
    },
    error: (error) => `\n[error: ${error.message}]\n`,
  };
}

/** Whether the client asked for plain text first (`Accept: text/plain`). curl's `*\/*` is not asking. */
export function wantsPlainText(accept: string | undefined): boolean {
  const first = accept?.split(',')[0]?.split(';')[0]?.trim().toLowerCase();
  return first === 'text/plain';
}
