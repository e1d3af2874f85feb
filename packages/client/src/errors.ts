/** A failed call to a model server, with whether trying again can help. */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly details: {
      /** HTTP status, when the server answered. */
      status?: number;
      /** The server's error code (OpenAI `code`), when it gave one. */
      code?: string;
      /** 429, 503 and connection failures: worth another try. */
      retryable: boolean;
      /** From `Retry-After`, when the server said. */
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LlmError';
  }

  get status(): number | undefined {
    return this.details.status;
  }

  /** The server does not know the model (try another one). */
  get modelMissing(): boolean {
    return this.details.status === 404 && /model/i.test(this.message + (this.details.code ?? ''));
  }
}

/** `Retry-After` as ms: seconds or an HTTP date. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Connection refused/reset, DNS failure: the server was not reached. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } })?.cause?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(
    code ?? '',
  );
}
