import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import fp from 'fastify-plugin';
import { ZodError } from 'zod';
import { ApiError, type ErrorSpec, errorCatalogue, isApiError } from '../errors/catalogue.js';
import { toOpenAIErrorBody } from '../errors/openai-error-body.js';
import { describeIssues, issuePath } from '../errors/validate.js';
import { ERROR_CODE_ATTRIBUTE, setServerSpanAttributes } from '../telemetry/server-span.js';

export interface ErrorsOptions {
  /** Shown in the 413 message so the caller knows the bound. */
  bodyLimitBytes: number;
  /** Renders an error's body for a request (default: OpenAI's `{"error":{...}}`). */
  errorBody?: ErrorBodyRenderer;
  /** The status another API gives an error (Anthropic's 529 for overloaded); default its own. */
  errorStatus?: (error: ApiError) => number;
  /**
   * The service's one place where its domain errors become catalogued `ApiError`s
   * (undefined for errors it does not know), so its domain layer throws no HTTP errors.
   */
  mapError?: DomainErrorMapper;
}

export type DomainErrorMapper = (error: unknown) => ApiError | undefined;

/**
 * How a service renders errors for some of its routes in another API's shape
 * (llmchat's Ollama routes: `{"error":"..."}`); the status, headers, catalogue
 * and logging stay the same.
 */
export type ErrorBodyRenderer = (error: ApiError, request: FastifyRequest) => unknown;

/*
 * The error options of each fastify context that set its own. An encapsulated
 * context is an object created from its parent's, so a context without its own
 * finds the nearest ancestor's by walking the prototype chain.
 */
const contextOptions = new WeakMap<object, ErrorsOptions>();
function optionsOf(server: object): ErrorsOptions | undefined {
  for (let context: object | null = server; context; context = Object.getPrototypeOf(context)) {
    const options = contextOptions.get(context);
    if (options) return options;
  }
  return undefined;
}

/** Names the field a fastify (ajv) schema violation is about, as a dotted path. */
function validationParam(error: FastifyError): string | null {
  const first = error.validation?.[0];
  if (!first) return null;
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  const field = [path, missing].filter(Boolean).join('.');
  return field === '' ? null : field;
}

/**
 * Turns anything thrown while serving a request into an `ApiError`. Errors we
 * did not make ourselves are described by what the client did, never by their
 * own message for 5xx: that could carry a path or internals.
 */
export function toApiError(error: unknown, options: ErrorsOptions): ApiError {
  if (isApiError(error)) return error;
  const mapped = options.mapError?.(error);
  if (mapped) return mapped;
  if (error instanceof ZodError) {
    const first = error.issues[0];
    return new ApiError(
      errorCatalogue.invalidRequest,
      `Invalid request: ${describeIssues(error.issues, 'request')}.`,
      {
        param: first ? issuePath(first.path) || null : null,
      },
    );
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'request';
    const param = validationParam(fastifyError as FastifyError);
    return new ApiError(
      errorCatalogue.invalidRequest,
      `Invalid ${where}: ${param ? `'${param}' ` : ''}${fastifyError.validation[0]?.message ?? 'is invalid'}.`,
      { param },
    );
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        errorCatalogue.payloadTooLarge,
        `Request body is larger than the limit of ${options.bodyLimitBytes} bytes. Send a smaller body (the operator can raise BODY_LIMIT_BYTES).`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        errorCatalogue.unsupportedMediaType,
        'Unsupported Content-Type. Send the body as application/json.',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(
        errorCatalogue.invalidJson,
        'The body is empty but Content-Type is application/json. Send a JSON object.',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(
        errorCatalogue.invalidJson,
        'The body is not valid JSON. Check quoting, commas and brackets.',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(
        errorCatalogue.invalidRequest,
        'Content-Length does not match the body sent.',
      );
    default:
      break;
  }
  // fastify's JSON parser reports syntax errors as a SyntaxError with statusCode 400.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new ApiError(
      errorCatalogue.invalidJson,
      'The body is not valid JSON. Check quoting, commas and brackets.',
    );
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const spec: ErrorSpec = { code: 'invalid_request', status, type: 'invalid_request_error' };
    return new ApiError(spec, fastifyError.message ?? 'Invalid request.');
  }
  return new ApiError(
    errorCatalogue.internal,
    'The server had an error while processing your request. Retry it; if it keeps failing, report the x-request-id response header.',
    { cause: error },
  );
}

export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  // Every error answered passes here, so its trace says which one it was, not only the status.
  setServerSpanAttributes({ [ERROR_CODE_ATTRIBUTE]: error.code });
  const options = optionsOf(reply.server);
  const render = options?.errorBody;
  return reply
    .code(options?.errorStatus?.(error) ?? error.status)
    .headers(error.headers)
    .type('application/json')
    .send(render ? render(error, reply.request) : toOpenAIErrorBody(error));
}

/** Longest an oversized upload is read (and dropped) before its 413 goes out anyway. */
const DRAIN_LIMIT_MS = 10_000;

/**
 * Reads and drops the rest of a request body. An oversized body is refused
 * from its Content-Length before it is read; answering while the client is
 * still uploading lets the socket close with unread data, the kernel resets
 * it, and the client loses the 413 (it sees EPIPE). Answering once the upload
 * is in — or after DRAIN_LIMIT_MS — gets the answer through.
 */
function drainBody(raw: FastifyRequest['raw']): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, DRAIN_LIMIT_MS);
    function done() {
      clearTimeout(timer);
      raw.off('end', done);
      raw.off('close', done);
      resolve();
    }
    raw.on('end', done);
    raw.on('close', done);
    raw.resume();
  });
}

/** The 404 of a path no route serves. */
export function routeNotFound(request: FastifyRequest): ApiError {
  const path = request.url.split('?', 1)[0] ?? '';
  return new ApiError(
    errorCatalogue.notFound,
    `No route ${request.method} ${path.slice(0, 200)}. Check the method and path.`,
  );
}

/** Renders anything thrown while serving a request, logged by how foreseen it was. */
function errorHandlerFor(options: ErrorsOptions) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    // A catalogued error, or a domain error the service maps, is foreseen.
    const foreseen = isApiError(error) ? error : options.mapError?.(error);
    const apiError = foreseen ?? toApiError(error, options);
    const fields = { code: apiError.code, status: apiError.status };
    // A failure the code did not foresee is an error with its stack; a foreseen 5xx
    // (loading, draining, timed out) is the service working as designed: a warning.
    if (apiError.status >= 500 && !foreseen) {
      request.log.error({ err: error }, 'request failed');
    } else if (apiError.status >= 500) request.log.warn(fields, apiError.message);
    else request.log.info(fields, apiError.message);
    if (apiError.status === 413) await drainBody(request.raw);
    return sendApiError(reply, apiError);
  };
}

/**
 * Renders the errors of one encapsulated context (a route plugin) in another API's
 * shape: its thrown errors, its 404s (with `notFoundUnder`, for paths under that
 * prefix) and `sendApiError` on its replies, with that API's statuses where they differ
 * (`status`). Mapping and logging stay the app's; fastify chains error handlers per context, so the rest of the app is
 * untouched.
 */
export function renderErrorsAs(
  instance: FastifyInstance,
  errorBody: ErrorBodyRenderer,
  options: { notFoundUnder?: string; status?: (error: ApiError) => number } = {},
): void {
  const inherited = optionsOf(instance);
  if (!inherited) throw new Error('renderErrorsAs needs the app built by hrserve (buildApp).');
  const own: ErrorsOptions = {
    ...inherited,
    errorBody,
    ...(options.status ? { errorStatus: options.status } : {}),
  };
  contextOptions.set(instance, own);
  instance.setErrorHandler(errorHandlerFor(own));
  const prefix = options.notFoundUnder;
  if (prefix !== undefined) {
    void instance.register(
      async (scope) => {
        scope.setNotFoundHandler((request, reply) => sendApiError(reply, routeNotFound(request)));
      },
      { prefix },
    );
  }
}

/**
 * Adds a plugin's own domain-error mapper to an encapsulated context (a shared package's
 * routes: the batch API's file and batch errors): its errors map first, then the service's.
 */
export function mapErrorsWith(instance: FastifyInstance, mapError: DomainErrorMapper): void {
  const inherited = optionsOf(instance);
  if (!inherited) throw new Error('mapErrorsWith needs the app built by hrserve (buildApp).');
  const own: ErrorsOptions = {
    ...inherited,
    mapError: (error) => mapError(error) ?? inherited.mapError?.(error),
  };
  contextOptions.set(instance, own);
  instance.setErrorHandler(errorHandlerFor(own));
}

/** One handler renders every error, as `{"error":{message,type,param,code}}` unless a context says otherwise. */
const errorsPlugin: FastifyPluginAsync<ErrorsOptions> = async (app, options) => {
  contextOptions.set(app, options);
  app.setErrorHandler(errorHandlerFor(options));
  app.setNotFoundHandler((request, reply) => sendApiError(reply, routeNotFound(request)));
};

export default fp(errorsPlugin, { name: 'hrserve-errors', fastify: '5.x' });
