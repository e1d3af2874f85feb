import { type FastifyInstance, parseRequest } from 'hrserve';
import { completionRequestSchema } from '../openai/chat-request.js';
import { completionId, toUsage } from '../openai/chat-response.js';
import { rejectUnsupported, stopStrings, toSampling } from '../openai/to-engine.js';
import { contextLengthExceeded } from './prepare-prompt.js';
import { jsonPresenter, ssePresenter } from './presenters.js';
import { type GenerationDeps, responseOf, runGeneration, withModel } from './run-generation.js';

/** POST /v1/completions, the legacy text completion — https://platform.openai.com/docs/api-reference/completions */
export function registerCompletions(app: FastifyInstance, deps: GenerationDeps): void {
  app.post('/v1/completions', async (request, reply) => {
    const body = parseRequest(completionRequestSchema, request.body);
    rejectUnsupported(body);
    return withModel(deps, body.model, {}, reply, async (lease, admission) => {
      const engine = lease.engine;
      const promptText = typeof body.prompt === 'string' ? body.prompt : (body.prompt[0] ?? '');
      // The model's BOS token starts the text, as llama.cpp's server does for raw prompts.
      const promptTokens = engine.tokenize(promptText, false);
      const bos = engine.bosToken;
      const tokens =
        bos !== undefined && promptTokens[0] !== bos ? [bos, ...promptTokens] : promptTokens;
      if (tokens.length >= engine.contextSize)
        throw contextLengthExceeded(tokens.length, engine.contextSize);
      const maxTokens = Math.min(body.max_tokens ?? 16, engine.contextSize - tokens.length);
      const id = completionId('cmpl');
      const created = Math.floor(Date.now() / 1000);
      const model = body.model;
      const streaming = body.stream === true;
      const includeUsage = body.stream_options?.include_usage === true;

      const chunk = (
        text: string,
        finishReason: string | null,
        extra?: Record<string, unknown>,
      ) => ({
        id,
        object: 'text_completion' as const,
        created,
        model,
        choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
        ...extra,
      });
      const presenter = streaming
        ? ssePresenter(reply, {
            sink: (sse) => ({
              text: (delta) => sse.send(chunk(delta, null)),
              toolCallStart: () => {},
              toolCallArguments: () => {},
            }),
            closing: (result, timings) =>
              includeUsage
                ? [
                    chunk('', result.finishReason),
                    {
                      id,
                      object: 'text_completion',
                      created,
                      model,
                      choices: [],
                      usage: toUsage(result),
                      ...timings,
                    },
                  ]
                : [chunk('', result.finishReason, timings)],
          })
        : jsonPresenter(reply, (result) => ({
            ...chunk(result.text, result.finishReason),
            usage: toUsage(result),
          }));

      const answer = await runGeneration(
        deps,
        lease,
        admission,
        request,
        {
          operation: 'text_completion',
          model,
          job: {
            promptTokens: tokens,
            maxTokens,
            sampling: toSampling(body),
            stop: stopStrings(body.stop),
            stopTokens: [],
          },
          attributes: {
            'gen_ai.operation.name': 'text_completion',
            'gen_ai.provider.name': 'llama.cpp',
            'gen_ai.request.model': model,
            'gen_ai.response.id': id,
            'gen_ai.request.max_tokens': maxTokens,
            ...(body.temperature != null ? { 'gen_ai.request.temperature': body.temperature } : {}),
            ...(body.top_p != null ? { 'gen_ai.request.top_p': body.top_p } : {}),
            model,
            streaming,
            ...(request.clientJobId ? { client_job_id: request.clientJobId } : {}),
          },
        },
        presenter,
      );
      return responseOf(reply, streaming, answer);
    });
  });
}
