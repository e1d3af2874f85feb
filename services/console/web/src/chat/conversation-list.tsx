import { useState } from 'preact/hooks';
import { hrefOf } from '../route';
import type { ConversationSummary } from './conversations';

function ConversationEntry(props: {
  conversation: ConversationSummary;
  current: boolean;
  showService: boolean;
  onRename: (title: string) => void;
  onDelete: () => void;
}) {
  const { conversation } = props;
  const [renaming, setRenaming] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const title = conversation.title || 'Untitled';
  if (renaming !== undefined) {
    return (
      <li>
        <form
          class="rename"
          onSubmit={(event) => {
            event.preventDefault();
            props.onRename(renaming.trim() || title);
            setRenaming(undefined);
          }}
        >
          <label class="visually-hidden" for={`rename-${conversation.id}`}>
            New title
          </label>
          <input
            id={`rename-${conversation.id}`}
            value={renaming}
            // The field replaces the button that opened it: the focus moves to it.
            ref={(field) => field?.focus()}
            onInput={(event) => setRenaming(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setRenaming(undefined);
            }}
          />
          <button type="submit">Save</button>
        </form>
      </li>
    );
  }
  return (
    <li class={props.current ? 'current' : undefined}>
      <a
        href={hrefOf({
          page: 'chat',
          service: conversation.service,
          conversation: conversation.id,
        })}
        aria-current={props.current ? 'page' : undefined}
      >
        {title}
        {props.showService && <span class="service-tag"> · {conversation.service}</span>}
      </a>
      <span class="entry-actions">
        <button
          type="button"
          class="quiet small"
          aria-label={`Rename ${title}`}
          onClick={() => setRenaming(title)}
        >
          Rename
        </button>
        {confirming ? (
          <>
            <button
              type="button"
              class="danger small"
              aria-label={`Really delete ${title}`}
              ref={(button) => button?.focus()}
              onClick={props.onDelete}
            >
              Delete?
            </button>
            <button type="button" class="quiet small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            class="quiet small"
            aria-label={`Delete ${title}`}
            onClick={() => setConfirming(true)}
          >
            Delete
          </button>
        )}
      </span>
    </li>
  );
}

/** The conversations of every chat service: search by title, rename, delete, import. */
export function ConversationList(props: {
  conversations: ConversationSummary[];
  currentId: string | undefined;
  showService: boolean;
  /** False while no chat service answers: its conversations are there, just not listed. */
  available: boolean;
  onNew: () => void;
  onRename: (conversation: ConversationSummary, title: string) => void;
  onDelete: (conversation: ConversationSummary) => void;
  onImport: (file: File) => void;
}) {
  const [query, setQuery] = useState('');
  const needle = query.trim().toLowerCase();
  const shown = needle
    ? props.conversations.filter((conversation) =>
        conversation.title.toLowerCase().includes(needle),
      )
    : props.conversations;
  return (
    <aside class="sidebar" aria-label="Conversations">
      <button type="button" onClick={props.onNew}>
        New conversation
      </button>
      <label class="visually-hidden" for="search-conversations">
        Search conversations
      </label>
      <input
        id="search-conversations"
        type="search"
        placeholder="Search conversations"
        value={query}
        onInput={(event) => setQuery(event.currentTarget.value)}
      />
      <ul class="conversations">
        {shown.map((conversation) => (
          <ConversationEntry
            key={`${conversation.service}/${conversation.id}`}
            conversation={conversation}
            current={conversation.id === props.currentId}
            showService={props.showService}
            onRename={(title) => props.onRename(conversation, title)}
            onDelete={() => props.onDelete(conversation)}
          />
        ))}
        {shown.length === 0 && (
          <li class="empty">
            {!props.available
              ? 'No chat service answers: its conversations show when it is back.'
              : needle
                ? 'No match.'
                : 'No conversations yet.'}
          </li>
        )}
      </ul>
      <label class="file-button">
        Import a conversation (JSON)
        <input
          type="file"
          accept="application/json,.json"
          onChange={(event) => {
            const file = event.currentTarget.files?.[0];
            if (file) props.onImport(file);
            event.currentTarget.value = '';
          }}
        />
      </label>
    </aside>
  );
}
