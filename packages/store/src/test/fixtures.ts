import { randomUUID } from 'node:crypto';
import type { NewResponse } from '../responses.js';

/** An id in the API's style (`resp_…`, `msg_…`, `conv_…`), unique across test files. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

/** An input message as the Conversations and input_items APIs show it. */
export function message(text: string, role: 'user' | 'assistant' = 'user') {
  return {
    id: newId('msg'),
    type: 'message',
    role,
    status: 'completed',
    content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }],
  };
}

/** A Response object's JSON as a route would store it. */
export function responseBody(id: string, status: string, output: unknown[] = []) {
  return { id, object: 'response', status, model: 'test-model', output, error: null };
}

/** A response with `inputs` user messages, stored in progress unless `status` says otherwise. */
export function newResponse(options: Partial<NewResponse> & { inputs?: number } = {}): NewResponse {
  const { inputs = 1, ...overrides } = options;
  const id = overrides.id ?? newId('resp');
  const status = overrides.status ?? 'in_progress';
  return {
    id,
    status,
    model: 'test-model',
    createdAt: 1_700_000_000_000,
    body: responseBody(id, status),
    inputItems: Array.from({ length: inputs }, (_, index) => message(`input ${index}`)),
    ...overrides,
  };
}
