import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServer {
  url: string;
  requests: Array<{ path: string; headers: IncomingMessage['headers']; body: unknown }>;
  close(): Promise<void>;
}

/** A loopback HTTP server whose answers the test scripts, recording every request. */
export async function fakeServer(
  handle: (
    request: { path: string; body: unknown; index: number },
    response: ServerResponse,
  ) => void | Promise<void>,
): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  const server = createServer(async (request, response) => {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const path = request.url ?? '/';
    requests.push({ path, headers: request.headers, body });
    await handle({ path, body, index: requests.length - 1 }, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OpenAI chat completion with `text`. */
export function openaiAnswer(response: ServerResponse, text: string): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    }),
  );
}
