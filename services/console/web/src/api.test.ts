import { describe, expect, it } from 'vitest';
import { problemOf } from './api';

describe('problemOf', () => {
  it("says when to retry a 429 or 503, from the service's Retry-After", async () => {
    const busy = await problemOf(
      new Response(
        '{"error":{"message":"Too many requests are waiting.","code":"rate_limit_exceeded"}}',
        {
          status: 429,
          headers: { 'retry-after': '7' },
        },
      ),
    );
    expect(busy).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterS: 7 });
    expect(busy.display).toBe('Too many requests are waiting. (retry in 7 s)');
  });

  it("reads Ollama's error shape and a body that is not JSON", async () => {
    expect(
      (await problemOf(new Response('{"error":"model is loading"}', { status: 503 }))).display,
    ).toBe('model is loading');
    expect(
      (await problemOf(new Response('<html>', { status: 502, statusText: 'Bad Gateway' }))).display,
    ).toBe('502 Bad Gateway');
  });
});
