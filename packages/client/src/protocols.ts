/** A chat message as every supported API takes it. */
export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type ApiType = 'ollama-chat' | 'ollama-generate' | 'openai';

/** What one generation asks for, model resolved. */
export interface Ask {
  model: string;
  messages: Message[];
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
}

export interface Answer {
  text: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** How one API is spoken: where to send, what to send, how to read the answer and its stream. */
export interface Protocol {
  path: string;
  body(ask: Ask, stream: boolean): unknown;
  answer(json: unknown): Answer;
  /** One line of the streamed body: a text piece, the end, or nothing of interest. */
  line(line: string): { text?: string; done?: boolean } | undefined;
}

const ollamaOptions = (ask: Ask) => ({
  ...(ask.temperature !== undefined ? { temperature: ask.temperature } : {}),
  ...(ask.maxTokens !== undefined ? { num_predict: ask.maxTokens } : {}),
  ...(ask.seed !== undefined ? { seed: ask.seed } : {}),
  ...(ask.stop?.length ? { stop: ask.stop } : {}),
});

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The conversation as one prompt, for APIs without messages (system first, then the turns). */
export function flatten(messages: Message[]): { system?: string; prompt: string } {
  const system = messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content);
  const turns = messages.filter((message) => message.role !== 'system');
  const prompt =
    turns.length === 1
      ? (turns[0]?.content ?? '')
      : turns
          .map((message) => `${message.role === 'user' ? 'User' : 'Assistant'}: ${message.content}`)
          .join('\n');
  return { ...(system.length ? { system: system.join('\n') } : {}), prompt };
}

export const protocols: Record<ApiType, Protocol> = {
  'ollama-chat': {
    path: '/api/chat',
    body: (ask, stream) => ({
      model: ask.model,
      messages: ask.messages,
      stream,
      options: ollamaOptions(ask),
    }),
    answer: (json) => {
      const value = json as {
        message?: { content?: string };
        prompt_eval_count?: number;
        eval_count?: number;
      };
      return {
        text: value.message?.content ?? '',
        promptTokens: value.prompt_eval_count,
        completionTokens: value.eval_count,
      };
    },
    line: (line) => {
      const value = parseLine(line) as
        | { message?: { content?: string }; done?: boolean }
        | undefined;
      return value && { text: value.message?.content ?? '', done: value.done === true };
    },
  },
  'ollama-generate': {
    path: '/api/generate',
    body: (ask, stream) => ({
      model: ask.model,
      ...flatten(ask.messages),
      stream,
      options: ollamaOptions(ask),
    }),
    answer: (json) => {
      const value = json as { response?: string; prompt_eval_count?: number; eval_count?: number };
      return {
        text: value.response ?? '',
        promptTokens: value.prompt_eval_count,
        completionTokens: value.eval_count,
      };
    },
    line: (line) => {
      const value = parseLine(line) as { response?: string; done?: boolean } | undefined;
      return value && { text: value.response ?? '', done: value.done === true };
    },
  },
  openai: {
    path: '/v1/chat/completions',
    body: (ask, stream) => ({
      model: ask.model,
      messages: ask.messages,
      stream,
      ...(ask.temperature !== undefined ? { temperature: ask.temperature } : {}),
      ...(ask.maxTokens !== undefined ? { max_tokens: ask.maxTokens } : {}),
      ...(ask.seed !== undefined ? { seed: ask.seed } : {}),
      ...(ask.stop?.length ? { stop: ask.stop } : {}),
    }),
    answer: (json) => {
      const value = json as {
        choices?: Array<{ message?: { content?: string | null } }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number };
      };
      return {
        text: value.choices?.[0]?.message?.content ?? '',
        promptTokens: value.usage?.prompt_tokens,
        completionTokens: value.usage?.completion_tokens,
      };
    },
    line: (line) => {
      if (!line.startsWith('data: ')) return undefined;
      const data = line.slice(6).trim();
      if (data === '[DONE]') return { done: true };
      const value = parseLine(data) as
        | { choices?: Array<{ delta?: { content?: string } }> }
        | undefined;
      return value && { text: value.choices?.[0]?.delta?.content ?? '' };
    },
  },
};

/** Probed in this order: the first API the server answers is used. */
export const PROBE_ORDER: ApiType[] = ['ollama-chat', 'ollama-generate', 'openai'];
