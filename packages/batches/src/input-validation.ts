import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { JsonObject } from '@hrserve/store';
import { isApiError } from 'hrserve';
import type { BatchError } from './batch-object.js';

/** One request of a batch, as it will run. */
export interface BatchLine {
  /** 1-based, as editors number lines. */
  line: number;
  customId: string;
  body: JsonObject;
}

/**
 * Checks a request body the way the endpoint's route will (schema, then conversion): throws
 * an ApiError naming the field, or any error whose message says what is wrong.
 */
export type BodyCheck = (body: JsonObject) => void;

/** Errors listed in the batch; the rest are counted in one last entry. */
const MAX_LISTED_ERRORS = 100;

/**
 * Reads a batch's JSONL input and checks every line before anything runs: JSON, a unique
 * `custom_id`, `method` POST, `url` the batch's endpoint, a `body` the endpoint accepts
 * (not streamed). Either every line is fine and they are returned, or the errors are,
 * each naming its line.
 */
export async function validateBatchInput(
  input: Readable,
  endpoint: string,
  check: BodyCheck,
): Promise<{ lines: BatchLine[] } | { errors: BatchError[] }> {
  const lines: BatchLine[] = [];
  const errors: BatchError[] = [];
  let errorCount = 0;
  const fail = (line: number, code: string, message: string, param: string | null = null) => {
    errorCount += 1;
    if (errors.length < MAX_LISTED_ERRORS) errors.push({ code, line, message, param });
  };
  const seen = new Set<string>();
  let number = 0;
  // readline splits on \n and \r\n, and yields a last line without its newline.
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    number += 1;
    if (text.trim() === '') continue;
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (error) {
      fail(number, 'invalid_json_line', `Line ${number} is not JSON: ${(error as Error).message}.`);
      continue;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      fail(number, 'invalid_request', `Line ${number} is not a JSON object.`);
      continue;
    }
    const { custom_id: customId, method, url, body } = request as Record<string, unknown>;
    if (typeof customId !== 'string' || customId === '') {
      fail(
        number,
        'missing_custom_id',
        `Line ${number} has no custom_id: give each request a unique string custom_id.`,
        'custom_id',
      );
      continue;
    }
    if (seen.has(customId)) {
      fail(
        number,
        'duplicate_custom_id',
        `Line ${number} repeats custom_id ${JSON.stringify(customId)}: each request's custom_id must be unique in the batch.`,
        'custom_id',
      );
      continue;
    }
    seen.add(customId);
    if (method !== 'POST') {
      fail(
        number,
        'invalid_method',
        `Line ${number} has method ${JSON.stringify(method)}: batch requests are "POST".`,
        'method',
      );
      continue;
    }
    if (url !== endpoint) {
      fail(
        number,
        'mismatched_url',
        `Line ${number} has url ${JSON.stringify(url)}, but the batch's endpoint is ${endpoint}: every line's url must be the batch's endpoint.`,
        'url',
      );
      continue;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      fail(
        number,
        'invalid_body',
        `Line ${number} has no body object: put the request's JSON body in "body".`,
        'body',
      );
      continue;
    }
    if ((body as JsonObject).stream === true) {
      fail(
        number,
        'invalid_body',
        `Line ${number} asks for a stream: batch requests are answered whole, so leave "stream" out.`,
        'body.stream',
      );
      continue;
    }
    try {
      check(body as JsonObject);
    } catch (error) {
      const param = isApiError(error) && error.param ? `body.${error.param}` : 'body';
      fail(number, 'invalid_body', `Line ${number}: ${(error as Error).message}`, param);
      continue;
    }
    lines.push({ line: number, customId, body: body as JsonObject });
  }
  if (errorCount === 0 && lines.length === 0) {
    return {
      errors: [
        {
          code: 'empty_file',
          line: null,
          message: 'The input file has no requests: put one JSON request per line.',
          param: null,
        },
      ],
    };
  }
  if (errorCount > errors.length) {
    errors.push({
      code: 'more_errors',
      line: null,
      message: `${errorCount - errors.length} more lines have errors; fix the ones listed and validate again.`,
      param: null,
    });
  }
  return errorCount > 0 ? { errors } : { lines };
}
