import { stat } from 'node:fs/promises';
import {
  type ChatWrapper,
  GeneralChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaGrammar,
  resolveChatWrapper,
  type Token,
} from 'node-llama-cpp';
import { type RenderedPrompt, renderChatPrompt } from './chat-prompt.js';
import type { DecodeGate } from './decode-gate.js';
import { DecodeLoop } from './decode-loop.js';
import { flashAttentionFor } from './flash-attention.js';
import { generate } from './generate.js';
import { toGrammarSchema } from './grammar-schema.js';
import { type LoadedModel, loadModel } from './load-model.js';
import { nativeContext } from './native.js';
import type { EngineOptions, ModelFile } from './options.js';
import { SequencePool } from './sequence-pool.js';
import { Slot } from './slot.js';
import type {
  ChatMessage,
  GenerationJob,
  GenerationResult,
  GenerationSink,
  ToolDefinition,
} from './types.js';

/** What `/health` and `/v1/models` tell about the served model. */
export interface ModelInfo {
  id: string;
  aliases: string[];
  path: string;
  size_bytes: number;
  architecture: string | undefined;
  context_size: number;
  train_context_size: number | undefined;
  parallel: number;
  threads: number;
  batch_threads: number;
  gpu: string | false;
  flash_attention: boolean | 'auto';
  /** `prebuilt` (node-llama-cpp's binaries) or `localBuild` (`pnpm --filter llmchat build:addon`). */
  binary: string;
  chat_template: string;
  estimated_ram_bytes: number;
}

/**
 * Owns the model, its one context and that context's sequences. Routes call
 * it; it knows nothing of HTTP. Concurrency is bounded by the caller (an
 * admission slot per request), so a sequence is always free in `run`.
 */
export class LlamaEngine {
  private constructor(
    private readonly loaded: LoadedModel,
    private readonly context: LlamaContext,
    private readonly pool: SequencePool,
    private readonly loop: DecodeLoop,
    private readonly chatWrapper: ChatWrapper,
    readonly info: ModelInfo,
  ) {}

  /** `gate` is the process's, shared by every model (one native decode at a time). */
  static async create(
    file: ModelFile,
    options: EngineOptions,
    llama: Llama,
    gate: DecodeGate,
  ): Promise<LlamaEngine> {
    const loaded = await loadModel(file, options, llama);
    const context = await loaded.model.createContext({
      contextSize: loaded.contextSize,
      sequences: options.parallel,
      threads: options.threads.single,
      batchSize: options.batchSize,
      flashAttention: flashAttentionFor(
        options.flashAttention,
        loaded.llama.gpu !== false,
        loaded.model.fileInfo.metadata,
      ),
    });
    // A model without a chat template still gets a readable generic one.
    const chatWrapper = resolveChatWrapper(loaded.model) ?? new GeneralChatWrapper();
    const [id, ...aliases] = loaded.ids;
    const info: ModelInfo = {
      id: id ?? 'model',
      aliases,
      path: loaded.path,
      size_bytes: (await stat(loaded.path)).size,
      architecture: loaded.model.fileInfo.metadata?.general?.architecture,
      context_size: context.contextSize,
      train_context_size: loaded.trainContextSize,
      parallel: options.parallel,
      threads: options.threads.single,
      batch_threads: options.threads.batch,
      gpu: loaded.llama.gpu,
      binary: loaded.llama.buildType,
      flash_attention: context.flashAttention,
      chat_template: chatWrapper.wrapperName,
      estimated_ram_bytes: loaded.estimatedRamBytes,
    };
    const { pool, loop } = slotsOf(context, options, gate);
    return new LlamaEngine(loaded, context, pool, loop, chatWrapper, info);
  }

  /** Every id clients may name in `model`. */
  get modelIds(): string[] {
    return [this.info.id, ...this.info.aliases];
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  renderChat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): RenderedPrompt {
    return renderChatPrompt(this.chatWrapper, this.loaded.model, messages, tools);
  }

  tokenize(text: string, specialTokens = false): Token[] {
    return this.loaded.model.tokenize(text, specialTokens);
  }

  /** The model's beginning-of-sequence token, when it has one. */
  get bosToken(): Token | undefined {
    return this.loaded.model.tokens.bos ?? undefined;
  }

  /** Token ids run from 0 to this size - 1. */
  get vocabularySize(): number {
    return this.loaded.model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  }

  detokenize(tokens: readonly Token[]): string {
    return this.loaded.model.detokenize(tokens, true);
  }

  /** Throws when the schema uses what llama.cpp grammars cannot express. */
  jsonSchemaGrammar(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    // Client schemas are checked by the converter at run time, not by the compile-time schema type.
    return this.loaded.llama.createGrammarForJsonSchema(toGrammarSchema(schema) as never);
  }

  jsonGrammar(): Promise<LlamaGrammar> {
    return this.loaded.llama.getGrammarFor('json');
  }

  /** Generates on the free sequence that best reuses the prompt's prefix; the sequence is returned in all cases. */
  async run(job: GenerationJob, sink: GenerationSink): Promise<GenerationResult> {
    const lease = this.pool.acquire(job.promptTokens);
    try {
      return await generate(
        this.loaded.model,
        lease.slot,
        lease.input,
        lease.reusedTokens,
        job,
        sink,
      );
    } finally {
      this.pool.release(lease.slot);
    }
  }

  /** The GGUF metadata as flat `a.b.c` keys (Ollama's model_info), without the tokenizer's big arrays. */
  ggufSummary(): Record<string, unknown> {
    const flat: Record<string, unknown> = {};
    const walk = (value: unknown, prefix: string) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value))
          walk(inner, prefix ? `${prefix}.${key}` : key);
      } else if (!Array.isArray(value) || value.length <= 64) {
        flat[prefix] = value;
      }
    };
    walk(this.loaded.model.fileInfo.metadata, '');
    return flat;
  }

  /** The model's own chat template (Jinja) when its GGUF has one, else the wrapper's name. */
  get chatTemplate(): string {
    return this.loaded.model.fileInfo.metadata.tokenizer?.chat_template ?? this.info.chat_template;
  }

  async dispose(): Promise<void> {
    // No context freed under a round in progress; the Llama instance is shared by every
    // model: the manager disposes it at shutdown.
    await this.loop.close();
    await this.context.dispose();
    await this.loaded.model.dispose();
  }
}

/**
 * The context's sequences as slots on one decode loop (see native.ts for why
 * llmchat runs its own loop instead of node-llama-cpp's per-sequence evaluate).
 */
function slotsOf(
  context: LlamaContext,
  options: EngineOptions,
  gate: DecodeGate,
): { pool: SequencePool; loop: DecodeLoop } {
  const native = nativeContext(context);
  const loop = new DecodeLoop(native, context.batchSize, options.threads, gate);
  const model = context.model;
  const slots = Array.from(
    { length: context.totalSequences },
    (_, id) => new Slot(id, context.contextSize, loop, native, (token) => model.isEogToken(token)),
  );
  return { pool: new SequencePool(slots), loop };
}
