/**
 * The one error catalogue of the platform. Every error a client can see is one
 * of these: a stable `code` (clients match on it, never on the message), an
 * HTTP status and the OpenAI error `type` it renders as.
 *
 * Services add their own entries with `defineError` next to their domain
 * (llmchat's `model_not_found`, `context_length_exceeded`, …) and throw
 * `ApiError`s; the error handler (plugins/errors.ts) renders them all the same.
 */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface ErrorSpec {
  /** Stable machine-readable code, rendered as `error.code`. */
  readonly code: string;
  /** HTTP status code of the response. */
  readonly status: number;
  /** OpenAI error `type`, rendered as `error.type`. */
  readonly type: OpenAIErrorType;
}

export function defineError(code: string, status: number, type: OpenAIErrorType): ErrorSpec {
  return Object.freeze({ code, status, type });
}

/** Errors of the shared runtime; services define theirs with `defineError`. */
export const errorCatalogue = {
  invalidRequest: defineError('invalid_request', 400, 'invalid_request_error'),
  invalidJson: defineError('invalid_json', 400, 'invalid_request_error'),
  invalidClientJobId: defineError('invalid_client_job_id', 400, 'invalid_request_error'),
  invalidApiKey: defineError('invalid_api_key', 401, 'authentication_error'),
  notFound: defineError('not_found', 404, 'not_found_error'),
  requestTimeout: defineError('request_timeout', 408, 'invalid_request_error'),
  payloadTooLarge: defineError('payload_too_large', 413, 'invalid_request_error'),
  unsupportedMediaType: defineError('unsupported_media_type', 415, 'invalid_request_error'),
  headersTooLarge: defineError('headers_too_large', 431, 'invalid_request_error'),
  rateLimited: defineError('rate_limit_exceeded', 429, 'rate_limit_error'),
  internal: defineError('internal_error', 500, 'server_error'),
  notReady: defineError('service_not_ready', 503, 'server_error'),
  draining: defineError('service_draining', 503, 'server_error'),
  overloaded: defineError('service_overloaded', 503, 'server_error'),
  /**
   * Batch work (a batch line) that gave its resources to interactive work and stopped: the
   * batch runner runs it again, behind interactive work. Never a client's answer.
   */
  preempted: defineError('preempted', 503, 'server_error'),
} as const satisfies Record<string, ErrorSpec>;

export interface ApiErrorOptions {
  /** The request field at fault, rendered as `error.param` (dotted path). */
  param?: string | null;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error meant for the client: its message is shown as is, so it must never carry paths or internals. */
export class ApiError extends Error {
  readonly spec: ErrorSpec;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(spec: ErrorSpec, message: string, options: ApiErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.spec = spec;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return this.spec.status;
  }

  get code(): string {
    return this.spec.code;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}
