// Services build on these without depending on fastify themselves.
export type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
export { type BuildAppOptions, buildApp, OPEN_PATHS } from './app.js';
export {
  CLIENT_JOB_ID_ATTRIBUTE,
  CLIENT_JOB_ID_HEADER,
  CLIENT_JOB_ID_PATTERN,
  CLIENT_JOB_ID_QUERY,
  CLIENT_JOB_ID_RULE,
  readClientJobId,
} from './client-job-id.js';
export {
  type BaseConfig,
  baseConfigSchema,
  CONFIG_ERROR_EXIT_CODE,
  ConfigError,
  envDuration,
  envList,
  envPositiveInteger,
  loadConfig,
  loadConfigOrExit,
  parseDuration,
  type ServiceDefaults,
  type TelemetryConfig,
  telemetryConfigSchema,
} from './config.js';
export {
  ApiError,
  type ApiErrorOptions,
  defineError,
  type ErrorSpec,
  errorCatalogue,
  isApiError,
  type OpenAIErrorType,
} from './errors/catalogue.js';
export {
  type OpenAIErrorBody,
  openAIErrorBodyJsonSchema,
  openAIErrorBodySchema,
  toOpenAIErrorBody,
} from './errors/openai-error-body.js';
export { describeIssues, parseRequest } from './errors/validate.js';
export { type ListPage, type ListPageRequest, listBody, pageRequestOf } from './list-page.js';
export { type MemoryLimits, readMemoryLimits } from './memory-limit.js';
export { readAnyBodyAsJson } from './plugins/any-body-as-json.js';
// Exported so the declaration bundle keeps each plugin's fastify decorations (app.metrics, request.clientJobId…).
export { type AuthOptions, keyMatcher } from './plugins/auth.js';
export type { ClientJobIdDecoration } from './plugins/client-job-id.js';
export {
  type DomainErrorMapper,
  type ErrorBodyRenderer,
  mapErrorsWith,
  renderErrorsAs,
  routeNotFound,
  sendApiError,
} from './plugins/errors.js';
export { Health, type HealthStatus } from './plugins/health.js';
export { Lifecycle } from './plugins/lifecycle.js';
export type { MetricsOptions } from './plugins/metrics.js';
export { REQUEST_ID_HEADER, TRACE_ID_HEADER } from './plugins/request-context.js';
export type { WorkPriorityDecoration } from './plugins/work-priority.js';
export { type PrettyLogOptions, prettyLogLine } from './pretty-log.js';
export {
  AdmissionQueue,
  type AdmissionQueueOptions,
  type Slot,
} from './scheduling/admission-queue.js';
export {
  BATCH_WORK_HEADER,
  batchWorkHeaders,
  type WorkPriority,
} from './scheduling/work-priority.js';
export { type RunningService, type ServeOptions, serve } from './serve.js';
export type { TelemetryStatus } from './telemetry/export-status.js';
export { getActiveTelemetry, type Telemetry } from './telemetry/setup.js';
export { currentTraceIds, startSpan } from './telemetry/spans.js';
