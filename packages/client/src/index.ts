export { fitToBudget } from './context-window.js';
export { type Environment, readPortTable, serviceUrl, urlVariable } from './discovery.js';
export { LlmError } from './errors.js';
export {
  type CallOptions,
  type Diagnosis,
  LlmClient,
  type LlmClientOptions,
} from './llm-client.js';
export type { Answer, ApiType, Message } from './protocols.js';
