import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';

/**
 * A batch of `count` chat completions of stories260K, `maxTokens` each (`ignore_eos`: every
 * line takes that long), uploaded and started on llmchat with the official client: what the
 * fleet page shows in progress (its browser test, the bench's screenshot).
 */
export async function startStoriesBatch(
  llmchatUrl: string,
  count: number,
  maxTokens: number,
): Promise<Batch> {
  const openai = new OpenAI({ baseURL: `${llmchatUrl}/v1`, apiKey: 'unused' });
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      custom_id: `line-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: 'stories260K',
        messages: [{ role: 'user', content: `Story ${i}` }],
        max_tokens: maxTokens,
        ignore_eos: true,
      },
    }),
  );
  const file = await openai.files.create({
    file: await toFile(Buffer.from(lines.join('\n')), 'batch.jsonl'),
    purpose: 'batch',
  });
  return openai.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
}
