import {
  GeneralChatWrapper,
  getLlama,
  type LlamaContext,
  type LlamaModel,
  resolveChatWrapper,
  type Token,
  TokenBias,
} from 'node-llama-cpp';
import { renderChatPrompt } from '../engine/chat-prompt.js';
import { flashAttentionFor } from '../engine/flash-attention.js';
import type { StreamTiming } from './sse-client.js';

/**
 * node-llama-cpp called in-process with nothing around it: the engine's
 * ceiling that llmchat is measured against (same model, threads, sequences
 * and sampling).
 */
export class DirectEngine {
  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
  ) {}

  static async load(
    modelPath: string,
    options: { threads: number; sequences: number; contextSize: number },
  ) {
    const llama = await getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      maxThreads: options.threads,
    });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: options.sequences,
      threads: options.threads,
      // llmchat's CPU default (LLMCHAT_FLASH_ATTENTION=auto): both sides run the same attention kernel.
      flashAttention: flashAttentionFor('auto', false, model.fileInfo.metadata) === true,
    });
    return new DirectEngine(model, context);
  }

  /** Tokens of a one-message chat, rendered with the model's template exactly as llmchat renders it. */
  chatTokens(content: string): Token[] {
    const wrapper = resolveChatWrapper(this.model) ?? new GeneralChatWrapper();
    return renderChatPrompt(wrapper, this.model, [{ role: 'user', content }], []).tokens;
  }

  tokenCount(text: string): number {
    return this.model.tokenize(text).length;
  }

  /** Generates `maxTokens` tokens (end-of-generation banned) for a chat message on a fresh sequence. */
  async generate(content: string, maxTokens: number, seed: number): Promise<StreamTiming> {
    const sequence = this.context.getSequence();
    try {
      const tokens = this.chatTokens(content);
      const bias = TokenBias.for(this.model);
      const eos = this.model.tokens.eos;
      if (eos !== null) bias.set(eos, 'never');
      const startedAt = performance.now();
      let firstAt: number | undefined;
      let lastAt = startedAt;
      let count = 0;
      for await (const _token of sequence.evaluate(tokens, {
        temperature: 1,
        seed,
        tokenBias: bias,
      })) {
        const now = performance.now();
        firstAt ??= now;
        lastAt = now;
        count += 1;
        if (count >= maxTokens) break;
      }
      return {
        ttftMs: (firstAt ?? lastAt) - startedAt,
        decodeMs: lastAt - (firstAt ?? lastAt),
        completionTokens: count,
      };
    } finally {
      sequence.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
