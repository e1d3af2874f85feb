export type { TelemetryStatus } from './export-status.js';
export { getActiveTelemetry, setupOtel, type Telemetry } from './setup.js';
export { currentTraceIds, startSpan } from './spans.js';
