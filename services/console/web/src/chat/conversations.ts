import { callJson, servicePath } from '../api';

/** A conversation a chat service keeps (llmchat's Conversations API). */
export interface ConversationSummary {
  service: string;
  id: string;
  title: string;
  /** The model last used in it (metadata.model), to pick it again. */
  model: string | undefined;
  createdAt: number;
}

/** A turn as the page shows it; `itemId` is the conversation item's id once stored. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
  itemId?: string;
}

interface ConversationBody {
  id: string;
  created_at: number;
  metadata?: Record<string, string> | null;
}

interface ItemBody {
  id: string;
  type: string;
  role?: string;
  content?: Array<{ type: string; text?: string }>;
}

/** An id in a path, encoded: ids come from links too. */
const id = (value: string) => encodeURIComponent(value);

/** The metadata keys the console sets (OpenAI allows 16 keys of at most 512 characters). */
function metadata(fields: { title?: string; model?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (fields.title !== undefined) out.title = fields.title.slice(0, 512);
  if (fields.model !== undefined) out.model = fields.model.slice(0, 512);
  return out;
}

function summary(service: string, body: ConversationBody): ConversationSummary {
  return {
    service,
    id: body.id,
    title: body.metadata?.title ?? '',
    model: body.metadata?.model,
    createdAt: body.created_at,
  };
}

/** A conversation's title from its first message: its first line, shortened. */
export function titleFrom(text: string): string {
  const line = text.trim().split('\n', 1)[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 59)}…` : line || 'New conversation';
}

/** Conversations listed per service at most (newest first): searching covers these. */
const LISTED_AT_MOST = 1_000;

/** The newest conversations of one chat service. */
export async function listConversations(service: string): Promise<ConversationSummary[]> {
  const found: ConversationSummary[] = [];
  let after = '';
  while (found.length < LISTED_AT_MOST) {
    const page = await callJson<{
      data: ConversationBody[];
      has_more: boolean;
      last_id: string | null;
    }>(
      servicePath(
        service,
        `/v1/conversations?limit=100&order=desc${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      ),
    );
    found.push(...page.data.map((body) => summary(service, body)));
    if (!page.has_more || !page.last_id) break;
    after = page.last_id;
  }
  return found;
}

export async function getConversation(service: string, id: string): Promise<ConversationSummary> {
  return summary(
    service,
    await callJson<ConversationBody>(
      servicePath(service, `/v1/conversations/${encodeURIComponent(id)}`),
    ),
  );
}

/** Items become a message each; at most 20 go in one call, as the API takes them. */
function itemsOf(turns: readonly Turn[]) {
  return turns.map((turn) => ({ type: 'message', role: turn.role, content: turn.text }));
}

export async function createConversation(
  service: string,
  fields: { title: string; model: string; turns?: readonly Turn[] },
): Promise<ConversationSummary> {
  const turns = fields.turns ?? [];
  const body = await callJson<ConversationBody>(servicePath(service, '/v1/conversations'), {
    json: { metadata: metadata(fields), items: itemsOf(turns.slice(0, 20)) },
  });
  for (let start = 20; start < turns.length; start += 20) {
    await callJson(servicePath(service, `/v1/conversations/${id(body.id)}/items`), {
      json: { items: itemsOf(turns.slice(start, start + 20)) },
    });
  }
  return summary(service, body);
}

/** Renames it, or records the model last used, keeping the other metadata. */
export async function updateConversation(
  conversation: ConversationSummary,
  fields: { title?: string; model?: string },
): Promise<ConversationSummary> {
  const body = await callJson<ConversationBody>(
    servicePath(conversation.service, `/v1/conversations/${id(conversation.id)}`),
    {
      json: {
        metadata: metadata({
          title: fields.title ?? conversation.title,
          ...((fields.model ?? conversation.model)
            ? { model: fields.model ?? conversation.model }
            : {}),
        }),
      },
    },
  );
  return summary(conversation.service, body);
}

export async function deleteConversation(conversation: ConversationSummary): Promise<void> {
  await callJson(servicePath(conversation.service, `/v1/conversations/${id(conversation.id)}`), {
    method: 'DELETE',
  });
}

/** Every user and assistant message of a conversation, oldest first. */
export async function readTurns(service: string, id: string): Promise<Turn[]> {
  const turns: Turn[] = [];
  let after = '';
  for (;;) {
    const page = await callJson<{ data: ItemBody[]; has_more: boolean; last_id: string | null }>(
      servicePath(
        service,
        `/v1/conversations/${encodeURIComponent(id)}/items?order=asc&limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      ),
    );
    for (const item of page.data) {
      if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant')) continue;
      const text = (item.content ?? []).map((part) => part.text ?? '').join('');
      turns.push({ role: item.role, text, itemId: item.id });
    }
    if (!page.has_more || !page.last_id) return turns;
    after = page.last_id;
  }
}

/** Appends turns at the end, 20 at a time (the API's most per call). */
export async function appendTurns(
  conversation: ConversationSummary,
  turns: readonly Turn[],
): Promise<void> {
  for (let start = 0; start < turns.length; start += 20) {
    await callJson(
      servicePath(conversation.service, `/v1/conversations/${id(conversation.id)}/items`),
      {
        json: { items: itemsOf(turns.slice(start, start + 20)) },
      },
    );
  }
}

/** Removes stored turns (edit and resend, regenerate: the turn and everything after it). */
export async function deleteTurns(
  conversation: ConversationSummary,
  turns: readonly Turn[],
): Promise<void> {
  for (const turn of turns) {
    if (!turn.itemId) continue;
    await callJson(
      servicePath(
        conversation.service,
        `/v1/conversations/${id(conversation.id)}/items/${id(turn.itemId)}`,
      ),
      { method: 'DELETE' },
    );
  }
}

/** The export format: what `importConversation` reads back. */
export interface ExportedConversation {
  format: 'hrserve-console-conversation';
  version: 1;
  title: string;
  model: string | undefined;
  exported_at: string;
  messages: Array<{ role: 'user' | 'assistant'; content: string }>;
}

export function exportConversation(
  conversation: ConversationSummary,
  turns: readonly Turn[],
): ExportedConversation {
  return {
    format: 'hrserve-console-conversation',
    version: 1,
    title: conversation.title,
    model: conversation.model,
    exported_at: new Date().toISOString(),
    messages: turns.map((turn) => ({ role: turn.role, content: turn.text })),
  };
}

/** A file's JSON checked as an export; a wrong file says what is wrong with it. */
export function parseExport(json: unknown): ExportedConversation {
  const value = json as Partial<ExportedConversation> | null;
  if (!value || value.format !== 'hrserve-console-conversation') {
    throw new Error('Not a conversation exported by the console (no "format" field).');
  }
  if (!Array.isArray(value.messages)) throw new Error('The file has no "messages" list.');
  for (const [index, message] of value.messages.entries()) {
    if (
      !message ||
      (message.role !== 'user' && message.role !== 'assistant') ||
      typeof message.content !== 'string'
    ) {
      throw new Error(`messages[${index}] needs a role (user or assistant) and a text content.`);
    }
  }
  return value as ExportedConversation;
}
