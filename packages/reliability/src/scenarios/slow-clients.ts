import { idleConnection, trickle } from '@hrserve/test-support/sockets';
import type { SpawnedService } from '@hrserve/test-support/spawn';
import { checkStream } from '../sse.js';
import { MODEL, type ScenarioResult, startEmbed, startLlmchat } from '../target.js';

const REQUEST_TIMEOUT_MS = 1500;
const MAX_CONNECTIONS = 16;
/** How long the silent connections may take to be closed: the timeout, then the busy service's turn. */
const CLOSE_BOUND_MS = REQUEST_TIMEOUT_MS * 10;

async function slowClients(
  label: string,
  service: SpawnedService,
  request: { path: string; body: string },
  /** true: answered in full; false: answered wrong; throws when the connection was refused. */
  inFlight: () => Promise<boolean>,
): Promise<{ figures: Record<string, string>; failures: string[] }> {
  const failures: string[] = [];
  const port = Number(new URL(service.url).port);
  // Real requests, one after another, the whole time: the slow clients must cost them nothing.
  let stopped = false;
  // A new connection may be refused while the silent ones hold MAX_CONNECTIONS: that is the
  // cap doing its job (counted, retried); an answer that goes wrong is a failure.
  const meanwhile = { ok: 0, failed: 0, refused: 0 };
  const served = (async () => {
    while (!stopped) {
      try {
        if (await inFlight()) meanwhile.ok += 1;
        else meanwhile.failed += 1;
      } catch {
        meanwhile.refused += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  const head = `POST ${request.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${request.body.length}\r\n\r\n`;
  // 20 bytes a second: the body alone would take far longer than REQUEST_TIMEOUT_MS.
  const [slowBody, slowHeaders] = await Promise.all([
    trickle(port, head, request.body, 50),
    trickle(port, '', head.padEnd(400, 'a'), 50),
  ]);
  const status = (answer: string) => /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 'closed';
  if (status(slowBody) !== '408')
    failures.push(`${label}: a trickled body got ${status(slowBody)}`);
  if (!['408', 'closed'].includes(status(slowHeaders)))
    failures.push(`${label}: trickled headers got ${status(slowHeaders)}`);

  // Twice MAX_CONNECTIONS idle sockets: the excess is dropped at once, the rest cut by the timeout.
  const sockets = await Promise.all(
    Array.from({ length: MAX_CONNECTIONS * 2 }, () => idleConnection(port)),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const dropped = sockets.filter((socket) => socket.destroyed || socket.readyState !== 'open');
  const cut = await new Promise<number>((resolve) => {
    const deadline = setTimeout(
      () => resolve(sockets.filter((s) => s.destroyed).length),
      CLOSE_BOUND_MS,
    );
    const check = setInterval(() => {
      if (sockets.every((socket) => socket.destroyed || socket.readyState !== 'open')) {
        clearInterval(check);
        clearTimeout(deadline);
        resolve(sockets.length);
      }
    }, 50);
    deadline.unref();
  });
  for (const socket of sockets) socket.destroy();
  if (dropped.length < MAX_CONNECTIONS)
    failures.push(
      `${label}: only ${dropped.length} of ${sockets.length} idle sockets dropped at once`,
    );
  if (cut !== sockets.length)
    failures.push(
      `${label}: ${sockets.length - cut} idle sockets still open after ${CLOSE_BOUND_MS} ms`,
    );
  stopped = true;
  await served;
  if (meanwhile.failed > 0 || meanwhile.ok === 0)
    failures.push(
      `${label}: requests beside the slow clients: ${meanwhile.ok} ok, ${meanwhile.failed} failed`,
    );
  return {
    figures: {
      [`${label}: body trickled at 20 B/s`]: status(slowBody),
      [`${label}: headers trickled at 20 B/s`]: status(slowHeaders),
      [`${label}: ${sockets.length} idle sockets, dropped at once`]: String(dropped.length),
      [`${label}: idle sockets closed by the server`]: `${cut}/${sockets.length}`,
      [`${label}: requests meanwhile (ok / failed / connection refused at the cap)`]: `${meanwhile.ok} / ${meanwhile.failed} / ${meanwhile.refused}`,
    },
    failures,
  };
}

/**
 * Issue 17, item 4: slowloris against llmchat and embed. Bodies and headers
 * trickled a byte at a time are cut with 408 after REQUEST_TIMEOUT_MS,
 * connections past MAX_CONNECTIONS are dropped, idle ones are closed, and a
 * real request running meanwhile completes.
 */
export async function slowClientScenario(): Promise<ScenarioResult> {
  const env = {
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  };
  const figures: Record<string, string> = {};
  const failures: string[] = [];
  const llmchat = await startLlmchat(env);
  try {
    const body = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'x'.repeat(200) }],
    });
    const result = await slowClients(
      'llmchat',
      llmchat,
      { path: '/v1/chat/completions', body },
      async () => {
        const response = await fetch(`${llmchat.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // Streamed: a stream is not cut by REQUEST_TIMEOUT_MS once its answer has started.
          body: JSON.stringify({
            model: MODEL,
            messages: [{ role: 'user', content: 'hi' }],
            max_tokens: 1500,
            ignore_eos: true,
            stream: true,
          }),
        });
        // Past the response's start, anything that goes wrong is a failure, not a refusal.
        return checkStream(response).then(
          (checked) => checked.problems.length === 0 && response.status === 200,
          () => false,
        );
      },
    );
    Object.assign(figures, result.figures);
    failures.push(...result.failures);
  } finally {
    await llmchat.stop();
  }
  const embed = await startEmbed(env);
  try {
    const body = JSON.stringify({ model: MODEL, input: 'x'.repeat(200) });
    const result = await slowClients('embed', embed, { path: '/v1/embeddings', body }, async () => {
      const response = await fetch(`${embed.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // About 0.8 s of work each, one after another through every phase.
        body: JSON.stringify({
          model: MODEL,
          input: Array.from({ length: 500 }, (_, index) => `${index} the cat ran to the big tree`),
        }),
      });
      return response.arrayBuffer().then(
        () => response.status === 200,
        () => false,
      );
    });
    Object.assign(figures, result.figures);
    failures.push(...result.failures);
  } finally {
    await embed.stop();
  }
  return { name: 'slow clients: trickled bodies and headers, idle connections', figures, failures };
}
