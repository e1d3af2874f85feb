import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { failedChatTrace, relayTraceBatches } from './__fixtures__/relay-trace.js';
import { formatDuration, renderTrace } from './render-trace.js';

const golden = (name: string) =>
  readFileSync(new URL(`./__fixtures__/traces/${name}`, import.meta.url), 'utf8');

const relay = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spans: relayTraceBatches.flat(),
  outcome: 'complete' as const,
  droppedSpans: 0,
};

describe('a trace as text', () => {
  it('is a tree in start order, each service named where its part begins (golden)', () => {
    expect(renderTrace(relay, { color: false, timeZone: 'UTC' })).toBe(golden('relay.txt'));
  });

  it('is the same tree whatever order the spans came in', () => {
    const reversed = { ...relay, spans: [...relay.spans].reverse() };
    expect(renderTrace(reversed, { color: false, timeZone: 'UTC' })).toBe(golden('relay.txt'));
  });

  it('shows errors, gen_ai attributes, a missing parent and spans not kept (golden)', () => {
    const trace = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spans: failedChatTrace,
      outcome: 'stopped' as const,
      droppedSpans: 3,
    };
    expect(renderTrace(trace, { color: false, timeZone: 'UTC' })).toBe(golden('failed-chat.txt'));
  });

  it('colours for a terminal only: the same text under the colours', () => {
    const coloured = renderTrace(relay, { color: true, timeZone: 'UTC' });
    expect(coloured).toContain('\x1b[1;36mupstream-api\x1b[0m');
    expect(stripVTControlCharacters(coloured)).toBe(golden('relay.txt'));
  });

  it('gives durations to a precision that reads', () => {
    expect([0.042, 3.04, 12.34, 1534.2].map(formatDuration)).toEqual([
      '0.04 ms',
      '3.0 ms',
      '12.3 ms',
      '1534 ms',
    ]);
  });
});
