import {
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaModel,
  LlamaText,
  SpecialTokensText,
  type Token,
} from 'node-llama-cpp';
import type { ChatMessage, ToolDefinition } from './types.js';

/** Opening tag of a tool call in the model's output (the Hermes/Qwen convention many models are trained on). */
export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

/** How the model is told about tools, appended to the system prompt. */
export function toolInstructions(tools: readonly ToolDefinition[]): string {
  const signatures = tools
    .map((tool) =>
      JSON.stringify({
        type: 'function',
        function: {
          name: tool.name,
          description: tool.description ?? '',
          parameters: tool.parameters,
        },
      }),
    )
    .join('\n');
  return [
    '# Tools',
    '',
    'You may call one or more functions to assist with the user query.',
    '',
    'You are provided with function signatures within <tools></tools> XML tags:',
    '<tools>',
    signatures,
    '</tools>',
    '',
    'For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:',
    '<tool_call>',
    '{"name": <function-name>, "arguments": <args-json-object>}',
    '</tool_call>',
  ].join('\n');
}

/** An assistant's tool call as the model writes it; generation follows the same form. */
export function renderToolCall(name: string, argumentsJson: string): string {
  return `${TOOL_CALL_OPEN}\n{"name": "${name}", "arguments": ${argumentsJson}}\n${TOOL_CALL_CLOSE}`;
}

/** OpenAI messages → node-llama-cpp chat history, ending with the (empty) answer to generate. */
export function toChatHistory(
  messages: readonly ChatMessage[],
  tools: readonly ToolDefinition[],
): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const instructions = tools.length > 0 ? toolInstructions(tools) : undefined;
  const firstSystem = messages.findIndex((message) => message.role === 'system');
  if (instructions && firstSystem === -1) history.push({ type: 'system', text: instructions });

  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        history.push({
          type: 'system',
          text:
            index === firstSystem && instructions
              ? `${message.content}\n\n${instructions}`
              : message.content,
        });
        return;
      case 'user':
        history.push({ type: 'user', text: message.content });
        return;
      case 'assistant': {
        const calls = (message.toolCalls ?? []).map((call) =>
          renderToolCall(call.name, call.arguments),
        );
        const text = [message.content, ...calls].filter((part) => part.length > 0).join('\n');
        history.push({ type: 'model', response: [text] });
        return;
      }
      case 'tool': {
        // Tool results go back as a user turn; consecutive results share one turn.
        const text = `<tool_response>\n${message.content}\n</tool_response>`;
        const previous = history.at(-1);
        if (previous?.type === 'user' && messages[index - 1]?.role === 'tool')
          previous.text += `\n${text}`;
        else history.push({ type: 'user', text });
        return;
      }
      default:
        void (message.role satisfies never);
    }
  });
  history.push({ type: 'model', response: [] });
  return history;
}

export interface RenderedPrompt {
  tokens: Token[];
  /** Plain-text stop triggers of the chat template (e.g. "### Human"). */
  stopStrings: string[];
  /** Single special tokens that end a turn in this template. */
  stopTokens: Token[];
}

/** Renders the conversation with the model's chat template and tokenizes it. */
export function renderChatPrompt(
  chatWrapper: ChatWrapper,
  model: LlamaModel,
  messages: readonly ChatMessage[],
  tools: readonly ToolDefinition[],
): RenderedPrompt {
  const { contextText, stopGenerationTriggers } = chatWrapper.generateContextState({
    chatHistory: toChatHistory(messages, tools),
  });
  const stopStrings: string[] = [];
  const stopTokens: Token[] = [];
  for (const trigger of stopGenerationTriggers) {
    const text = LlamaText(trigger);
    if (text.values.every((value) => typeof value === 'string')) {
      const value = text.values.join('');
      if (value.length > 0) stopStrings.push(value);
    } else if (text.values.length === 1 && text.values[0] instanceof SpecialTokensText) {
      const tokens = text.tokenize(model.tokenizer);
      if (tokens.length === 1 && tokens[0] !== undefined) stopTokens.push(tokens[0]);
    }
  }
  return { tokens: contextText.tokenize(model.tokenizer), stopStrings, stopTokens };
}
