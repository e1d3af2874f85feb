export type { OtlpEncoding } from './otlp-codec.js';
export {
  type OtlpCounts,
  OtlpListener,
  type OtlpListenerOptions,
  type OtlpProtocol,
  PortInUseError,
} from './otlp-listener.js';
export {
  type AttributeValue,
  OtlpDecodeError,
  type ReceivedEvent,
  type ReceivedLink,
  type ReceivedSpan,
} from './received-span.js';
