import { Ajv } from 'ajv';
import { ApiError, errorCatalogue, type FastifyInstance, parseRequest } from 'hrserve';
import type { LlamaGrammar } from 'node-llama-cpp';
import type { LlmchatConfig } from '../config.js';
import { chatCompletionRequestSchema } from '../openai/chat-request.js';
import {
  ChatChunkBuilder,
  completionId,
  toChatCompletion,
  toUsage,
} from '../openai/chat-response.js';
import {
  planTools,
  rejectUnsupported,
  stopStrings,
  toChatMessages,
  toSampling,
} from '../openai/to-engine.js';
import { grammarFromSchema, renderWithinContext } from './prepare-prompt.js';
import { jsonPresenter, ssePresenter } from './presenters.js';
import { type GenerationDeps, responseOf, runGeneration, withModel } from './run-generation.js';

/** POST /v1/chat/completions — https://platform.openai.com/docs/api-reference/chat/create */
export function registerChatCompletions(
  app: FastifyInstance,
  deps: GenerationDeps,
  config: LlmchatConfig,
): void {
  // Checks client JSON schemas (tools, response_format); strict off: unknown keywords are allowed, as OpenAI allows them.
  const schemas = new Ajv({ strict: false, validateFormats: false });
  app.post('/v1/chat/completions', async (request, reply) => {
    const body = parseRequest(chatCompletionRequestSchema, request.body);
    rejectUnsupported(body);
    return withModel(deps, body.model, {}, reply, async (lease, admission) => {
      const engine = lease.engine;
      const messages = toChatMessages(body.messages);
      const tools = planTools(body);
      const format = body.response_format?.type ?? 'text';
      if (format !== 'text' && tools.choice !== 'none') {
        throw new ApiError(
          errorCatalogue.invalidRequest,
          "'response_format' json_object/json_schema cannot be combined with tools; send one or the other.",
          { param: 'response_format' },
        );
      }

      const toolGrammars = await Promise.all(
        tools.callable.map(async (tool) => ({
          name: tool.name,
          argumentsGrammar: await grammarFromSchema(
            engine,
            schemas,
            tool.parameters,
            `tools.${(body.tools ?? []).findIndex((candidate) => candidate.function.name === tool.name)}.function.parameters`,
          ),
        })),
      );
      let grammar: LlamaGrammar | undefined;
      if (body.response_format?.type === 'json_object') grammar = await engine.jsonGrammar();
      if (body.response_format?.type === 'json_schema') {
        grammar = await grammarFromSchema(
          engine,
          schemas,
          body.response_format.json_schema.schema ?? { type: 'object' },
          'response_format.json_schema.schema',
        );
      }

      const prompt = renderWithinContext(
        engine,
        messages,
        tools.described,
        config.LLMCHAT_CONTEXT_OVERFLOW,
      );
      const requestedMax =
        body.max_completion_tokens ?? body.max_tokens ?? Number.POSITIVE_INFINITY;
      const maxTokens = Math.min(requestedMax, engine.contextSize - prompt.tokens.length);
      const id = completionId('chatcmpl');
      const created = Math.floor(Date.now() / 1000);
      const model = body.model;
      const streaming = body.stream === true;
      const includeUsage = body.stream_options?.include_usage === true;

      const job = {
        promptTokens: prompt.tokens,
        maxTokens,
        sampling: toSampling(body),
        stop: [...stopStrings(body.stop), ...prompt.stopStrings],
        stopTokens: prompt.stopTokens,
        ...(grammar ? { grammar } : {}),
        ...(tools.choice !== 'none'
          ? { tools: { choice: tools.choice, tools: toolGrammars, parallel: tools.parallel } }
          : {}),
      };
      const attributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'llama.cpp',
        'gen_ai.request.model': model,
        'gen_ai.response.id': id,
        'gen_ai.response.model': engine.info.id,
        ...((body.max_completion_tokens ?? body.max_tokens)
          ? { 'gen_ai.request.max_tokens': body.max_completion_tokens ?? body.max_tokens ?? 0 }
          : {}),
        ...(body.temperature != null ? { 'gen_ai.request.temperature': body.temperature } : {}),
        ...(body.top_p != null ? { 'gen_ai.request.top_p': body.top_p } : {}),
        ...(body.top_k != null ? { 'gen_ai.request.top_k': body.top_k } : {}),
        ...(body.seed != null ? { 'gen_ai.request.seed': body.seed } : {}),
        model,
        streaming,
        num_messages: body.messages.length,
        num_tools: body.tools?.length ?? 0,
        ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
      };

      const chunks = new ChatChunkBuilder(id, created, model);
      const presenter = streaming
        ? ssePresenter(reply, {
            opening: chunks.delta({ role: 'assistant', content: '' }),
            sink: (sse) => ({
              text: (delta) => sse.sendJson(chunks.contentJson(delta)),
              toolCallStart: (index, call) =>
                sse.send(
                  chunks.delta({
                    tool_calls: [
                      {
                        index,
                        id: call.id,
                        type: 'function',
                        function: { name: call.name, arguments: '' },
                      },
                    ],
                  }),
                ),
              toolCallArguments: (index, fragment) =>
                sse.send(
                  chunks.delta({ tool_calls: [{ index, function: { arguments: fragment } }] }),
                ),
            }),
            closing: (result, timings) =>
              includeUsage
                ? [chunks.finish(result.finishReason), chunks.usage(toUsage(result), timings)]
                : [chunks.finish(result.finishReason, timings)],
          })
        : jsonPresenter(reply, (result) => toChatCompletion(id, created, model, result));

      const answer = await runGeneration(
        deps,
        lease,
        admission,
        request,
        { operation: 'chat', model, job, attributes },
        presenter,
      );
      return responseOf(reply, streaming, answer);
    });
  });
}
