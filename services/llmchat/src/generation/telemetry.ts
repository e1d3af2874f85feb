import type { Attributes, Span } from '@opentelemetry/api';
import type { LlmchatMetrics } from '../metrics.js';
import type { FinishedGeneration, NativeChatRequest } from './native-request.js';

export type Operation = 'chat' | 'text_completion';

/** The GenAI span attributes of a request (https://opentelemetry.io/docs/specs/semconv/gen-ai/). */
export function requestAttributes(request: NativeChatRequest, operation: Operation): Attributes {
  const { sampling } = request;
  return {
    'gen_ai.operation.name': operation,
    'gen_ai.provider.name': 'llama.cpp',
    'gen_ai.request.model': request.model,
    ...(request.maxTokens !== undefined ? { 'gen_ai.request.max_tokens': request.maxTokens } : {}),
    'gen_ai.request.temperature': sampling.temperature,
    ...(sampling.topP !== undefined ? { 'gen_ai.request.top_p': sampling.topP } : {}),
    ...(sampling.topK !== undefined ? { 'gen_ai.request.top_k': sampling.topK } : {}),
    ...(sampling.seed !== undefined ? { 'gen_ai.request.seed': sampling.seed } : {}),
    model: request.model,
    num_messages: request.prompt.kind === 'chat' ? request.prompt.messages.length : 1,
    num_tools: request.prompt.kind === 'chat' ? request.prompt.tools.length : 0,
  };
}

/** A finished generation in the GenAI metrics and on its span. */
export function recordGeneration(
  metrics: LlmchatMetrics,
  labels: { gen_ai_request_model: string; gen_ai_operation_name: string },
  span: Span,
  result: FinishedGeneration,
  generationStartedAt: number,
): void {
  const { timings } = result;
  metrics.timeToFirstToken.observe(labels, timings.timeToFirstTokenMs / 1000);
  if (result.completionTokens > 1) {
    metrics.timePerOutputToken.observe(
      labels,
      timings.decodeMs / 1000 / (result.completionTokens - 1),
    );
  }
  const model = { gen_ai_request_model: labels.gen_ai_request_model };
  // n choices of one prompt: the first counts it.
  if (!result.sharedPrompt) {
    metrics.tokens.inc({ ...model, gen_ai_token_type: 'input' }, result.promptTokens);
    metrics.tokens.inc({ ...model, gen_ai_token_type: 'cached' }, timings.promptCached);
  }
  metrics.tokens.inc({ ...model, gen_ai_token_type: 'output' }, result.completionTokens);

  if (result.completionTokens > 0) {
    span.addEvent('gen_ai.first_token', {}, generationStartedAt + timings.timeToFirstTokenMs);
  }
  span.setAttributes({
    'gen_ai.response.model': result.modelId,
    'gen_ai.response.finish_reasons': [result.finishReason],
    'gen_ai.usage.input_tokens': result.promptTokens,
    'gen_ai.usage.output_tokens': result.completionTokens,
    'llmchat.prompt_cached_tokens': timings.promptCached,
    'llmchat.time_to_first_token_ms': timings.timeToFirstTokenMs,
  });
}
