import { fitToBudget, type LlmClient, type Message } from '@hrserve/client';
import { authHeaders } from './auth-headers.js';
import type { Conversation } from './conversation.js';
import type { ServerConversations } from './server-conversations.js';

/** Tokens kept free for the answer when the history is cut to the context. */
const ANSWER_RESERVE = 512;

/**
 * What hrchat knows about the server: its models and their context sizes,
 * and the conversation under way.
 */
export class ChatSession {
  models: string[] = [];
  private contextSizes = new Map<string, number>();
  /** Token counts of message texts: each turn is counted once, not again on every later turn. */
  private readonly tokenCounts = new Map<string, number>();

  constructor(
    readonly client: LlmClient,
    readonly baseUrl: string,
    public conversation: Conversation,
    /** The server's conversations, when it keeps them (llmchat); else they are local only. */
    readonly server?: ServerConversations,
    private readonly apiKey?: string,
  ) {}

  /** Reads the model list (and context sizes where the server tells them). */
  async refreshModels(): Promise<string[]> {
    this.models = (await this.client.diagnose()).models;
    try {
      const response = await fetch(`${this.baseUrl}/v1/models`, {
        headers: authHeaders(this.apiKey),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await response.json()) as {
        data?: Array<{ id: string; context_length?: number | null }>;
      };
      for (const model of body.data ?? []) {
        if (model.context_length) this.contextSizes.set(model.id, model.context_length);
      }
    } catch {
      // An Ollama or other server without /v1/models sizes: the default below applies.
    }
    return this.models;
  }

  /** The conversation plus `question`, oldest turns dropped to fit the model's context. */
  async messagesFor(question: string): Promise<Message[]> {
    const context = this.contextSizes.get(this.conversation.model) ?? 2048;
    const budget = Math.max(64, context - Math.min(ANSWER_RESERVE, Math.floor(context / 4)));
    const all = [...this.conversation.messages, { role: 'user' as const, content: question }];
    return fitToBudget(all, budget, (text) => this.countTokens(text));
  }

  private async countTokens(text: string): Promise<number> {
    const known = this.tokenCounts.get(text);
    if (known !== undefined) return known;
    const { tokens } = await this.client.countTokens(text);
    this.tokenCounts.set(text, tokens);
    return tokens;
  }
}
