/** Calls to the console's server: its own API under /console, and the services through it. */

/** A failed call, as the service (or the console) explained it. */
export class ApiProblem extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    /** Seconds to wait before retrying (429/503 with Retry-After). */
    readonly retryAfterS: number | undefined,
  ) {
    super(message);
  }

  /** What the page shows: the message, and when to retry when the service said. */
  get display(): string {
    return this.retryAfterS === undefined
      ? this.message
      : `${this.message} (retry in ${this.retryAfterS} s)`;
  }
}

/** Fired when a call answers 401: the session ended, the page asks for the key again. */
export const LOGGED_OUT_EVENT = 'console:logged-out';

/** The path of a service's route through the console's proxy. */
export function servicePath(service: string, path: string): string {
  return `/console/services/${encodeURIComponent(service)}${path}`;
}

function retryAfterOf(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}

/** The error a non-2xx answer carries (OpenAI's `{error:{message,code}}`, Ollama's `{error}`). */
export async function problemOf(response: Response): Promise<ApiProblem> {
  if (response.status === 401) window.dispatchEvent(new Event(LOGGED_OUT_EVENT));
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { message?: string; code?: string } | string }
    | undefined;
  const error = body?.error;
  const message =
    typeof error === 'string'
      ? error
      : (error?.message ?? `${response.status} ${response.statusText || 'error'}`);
  const code = typeof error === 'object' ? error.code : undefined;
  return new ApiProblem(message, response.status, code, retryAfterOf(response));
}

/** A JSON call; a non-2xx answer throws its ApiProblem. */
export async function callJson<T>(path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const response = await fetch(path, {
    ...rest,
    ...(json === undefined
      ? {}
      : {
          method: rest.method ?? 'POST',
          body: JSON.stringify(json),
          headers: { 'content-type': 'application/json', ...rest.headers },
        }),
  });
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A failure as words for the page. */
export function describeError(error: unknown): string {
  if (error instanceof ApiProblem) return error.display;
  if (error instanceof Error) return error.message;
  return String(error);
}
