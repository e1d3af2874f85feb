import type { ApiError } from 'hrserve';
import type { GenerationEvent } from '../engine/types.js';
import type { FinishedGeneration } from '../generation/native-request.js';

/**
 * A protocol's answer, written from generations' events and results: pure
 * (ids, times and clocks are given to it), so golden wire fixtures test it
 * without a model. One request may run several generations (the choices of a
 * legacy completion with several prompts), numbered from 0. Stream chunks are
 * JSON texts; the route frames them (SSE, NDJSON) and sends them.
 */
export interface WireEncoder<Body> {
  /**
   * Chunks sent as the stream opens (a role delta, say), once every generation has started;
   * `promptTokens`: each generation's prompt, counted.
   */
  open(choices: number, promptTokens?: readonly number[]): string[];
  /** The chunks for one piece of output of choice `choice`. */
  event(event: GenerationEvent, choice: number): string[];
  /** The closing chunks (finish reasons, usage), once every generation has finished. */
  close(results: FinishedGeneration[]): string[];
  /** The whole answer as one body, when the client did not ask for a stream. */
  body(results: FinishedGeneration[]): Body;
  /** An error after the stream started: told in-band, in the protocol's error shape. */
  error(error: ApiError): string;
}

/** The answer of a protocol with one choice per request. */
export function onlyResult(results: readonly FinishedGeneration[]): FinishedGeneration {
  const [first] = results;
  if (!first) throw new Error('an answer needs at least one generation');
  return first;
}
