export { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export { type SpawnedService, type SpawnOptions, spawnService } from './spawn-service.js';
