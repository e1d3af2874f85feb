import type { CallOptions } from '@hrserve/client';
import { authHeaders } from './auth-headers.js';
import type { Turn } from './conversation.js';

export interface ServerConversationSummary {
  id: string;
  title: string;
  /** Unix seconds. */
  createdAt: number;
}

interface ConversationItem {
  type: string;
  role?: string;
  content?: Array<{ type: string; text?: string }>;
}

/** A server's answer that is not what was asked for: its error message, else its status. */
async function failure(response: Response, what: string): Promise<Error> {
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  return new Error(`${what}: ${body.error?.message ?? `HTTP ${response.status}`}`);
}

/**
 * Conversations kept on the server (llmchat's Conversations API): a conversation started
 * in one terminal continues in another. Each turn is a stored response made in the
 * conversation, which reads the earlier turns on the server; a stopped answer fails its
 * response, so the conversation never gets it.
 */
export class ServerConversations {
  private constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** The server's conversations, when it keeps them (GET /v1/conversations answers a list). */
  static async detect(baseUrl: string, apiKey?: string): Promise<ServerConversations | undefined> {
    const headers = authHeaders(apiKey);
    try {
      const response = await fetch(`${baseUrl}/v1/conversations?limit=1`, {
        headers,
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await response.json()) as { object?: unknown };
      return response.ok && body.object === 'list'
        ? new ServerConversations(baseUrl, headers)
        : undefined;
    } catch {
      return undefined;
    }
  }

  private post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  }

  /** The newest conversations first. */
  async list(limit = 20): Promise<ServerConversationSummary[]> {
    const response = await fetch(`${this.baseUrl}/v1/conversations?limit=${limit}`, {
      headers: this.headers,
    });
    if (!response.ok) throw await failure(response, 'cannot list the conversations');
    const body = (await response.json()) as {
      data: Array<{ id: string; created_at: number; metadata?: { title?: string } }>;
    };
    return body.data.map((conversation) => ({
      id: conversation.id,
      title: conversation.metadata?.title ?? '',
      createdAt: conversation.created_at,
    }));
  }

  async create(title: string): Promise<string> {
    const response = await this.post('/v1/conversations', {
      metadata: { title: title.slice(0, 512) },
    });
    if (!response.ok) throw await failure(response, 'cannot start a conversation on the server');
    return ((await response.json()) as { id: string }).id;
  }

  async rename(id: string, title: string): Promise<void> {
    const response = await this.post(`/v1/conversations/${id}`, { metadata: { title } });
    if (!response.ok) throw await failure(response, 'cannot rename the conversation');
  }

  /** Every turn of a conversation, oldest first, as text. */
  async turns(id: string): Promise<Turn[]> {
    const turns: Turn[] = [];
    let after = '';
    for (;;) {
      const response = await fetch(
        `${this.baseUrl}/v1/conversations/${id}/items?order=asc&limit=100${after ? `&after=${after}` : ''}`,
        { headers: this.headers },
      );
      if (!response.ok) throw await failure(response, `cannot read conversation ${id}`);
      const page = (await response.json()) as {
        data: Array<ConversationItem & { id: string }>;
        has_more: boolean;
        last_id: string | null;
      };
      for (const item of page.data) {
        if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant'))
          continue;
        const content = (item.content ?? []).map((part) => part.text ?? '').join('');
        turns.push({ role: item.role, content });
      }
      if (!page.has_more || !page.last_id) return turns;
      after = page.last_id;
    }
  }

  /**
   * One turn in conversation `id`, streamed: the answer's text as it comes. `truncation:
   * auto`: a conversation longer than the model's context drops its oldest turns.
   */
  async *respond(
    id: string,
    turn: { model: string; system: string; question: string; options: CallOptions },
  ): AsyncGenerator<string, void> {
    const { options } = turn;
    const response = await this.post(
      '/v1/responses',
      {
        model: turn.model,
        conversation: id,
        input: turn.question,
        ...(turn.system ? { instructions: turn.system } : {}),
        ...(options.maxTokens ? { max_output_tokens: options.maxTokens } : {}),
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        // llmchat's extension (OpenAI's Responses API has no seed).
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        truncation: 'auto',
        stream: true,
      },
      options.signal,
    );
    if (!response.ok || !response.body)
      throw await failure(response, 'the server refused the turn');
    let buffered = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      const events = buffered.split('\n\n');
      buffered = events.pop() ?? '';
      for (const event of events) {
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (!data) continue;
        const parsed = JSON.parse(data) as {
          type: string;
          delta?: string;
          message?: string;
          response?: { error?: { message?: string } };
        };
        if (parsed.type === 'response.output_text.delta' && parsed.delta) yield parsed.delta;
        if (parsed.type === 'error') throw new Error(parsed.message ?? 'the answer failed');
        if (parsed.type === 'response.failed') {
          throw new Error(parsed.response?.error?.message ?? 'the answer failed');
        }
      }
    }
  }
}
