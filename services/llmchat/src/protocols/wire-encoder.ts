import type { ApiError } from 'hrserve';
import type { GenerationEvent } from '../engine/types.js';
import type { FinishedGeneration } from '../generation/native-request.js';

/**
 * A protocol's answer, written from a generation's events and result: pure
 * (ids, times and clocks are given to it), so golden wire fixtures test it
 * without a model. Stream chunks are JSON texts; the route frames them (SSE,
 * NDJSON) and sends them.
 */
export interface WireEncoder<Body> {
  /** Chunks sent as the stream opens (a role delta, say), once generation has started. */
  open(): string[];
  /** The chunks for one piece of output. */
  event(event: GenerationEvent): string[];
  /** The closing chunks (finish reason, usage). */
  close(result: FinishedGeneration): string[];
  /** The whole answer as one body, when the client did not ask for a stream. */
  body(result: FinishedGeneration): Body;
  /** An error after the stream started: told in-band, in the protocol's error shape. */
  error(error: ApiError): string;
}
