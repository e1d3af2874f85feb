import { useMemo, useState } from 'preact/hooks';
import { Alert } from '../alert';
import { traceLink } from '../fleet/fleet-data';
import type { Turn } from './conversations';
import type { AnswerStats } from './respond';
import { useMarkdown } from './use-markdown';

/** A turn on the page: a stored one, or one being answered here (with its figures). */
export interface ShownTurn extends Turn {
  state?: 'streaming' | 'stopped' | 'failed';
  /** Said while no text has come yet (a model loading). */
  note?: string;
  stats?: AnswerStats;
  error?: string;
}

function Stats({ stats, traceUrl }: { stats: AnswerStats; traceUrl: string | null }) {
  const parts: string[] = [];
  if (stats.ttftMs !== undefined) parts.push(`TTFT ${Math.round(stats.ttftMs)} ms`);
  if (stats.tokensPerSecond !== undefined)
    parts.push(`${stats.tokensPerSecond.toFixed(1)} tokens/s`);
  if (stats.outputTokens !== undefined) parts.push(`${stats.outputTokens} tokens`);
  if (stats.incomplete) parts.push('cut at the token limit');
  if (stats.stopped) parts.push('stopped: the answer so far is kept');
  const link = traceLink(traceUrl, stats.traceId);
  return (
    <p class="stats">
      {parts.join(' · ')}
      {link && (
        <>
          {' · '}
          <a href={link} target="_blank" rel="noopener noreferrer">
            trace
          </a>
        </>
      )}
    </p>
  );
}

/** One message: the user's as written, the assistant's as Markdown. */
export function MessageView(props: {
  turn: ShownTurn;
  /** Its place in the conversation (ids of its fields). */
  index: number;
  busy: boolean;
  traceUrl: string | null;
  /** Offered on the last answer. */
  onRegenerate?: () => void;
  /** Offered on the user's messages. */
  onEdit?: (text: string) => void;
}) {
  const { turn, busy } = props;
  const [editing, setEditing] = useState<string | undefined>();
  const markdown = useMarkdown();
  const blocks = useMemo(
    () => (turn.role === 'assistant' && markdown ? markdown.renderMarkdownBlocks(turn.text) : []),
    [turn.role, turn.text, markdown],
  );
  const label = turn.role === 'user' ? 'You' : 'Assistant';
  return (
    <article
      class={`message ${turn.role}`}
      aria-label={label}
      data-state={turn.state ?? 'done'}
      aria-busy={turn.state === 'streaming'}
    >
      <h2 class="who">{label}</h2>
      {editing !== undefined ? (
        <form
          class="edit"
          onSubmit={(event) => {
            event.preventDefault();
            if (editing.trim()) props.onEdit?.(editing);
            setEditing(undefined);
          }}
        >
          <label class="visually-hidden" for={`edit-message-${props.index}`}>
            Edit the message
          </label>
          <textarea
            id={`edit-message-${props.index}`}
            rows={3}
            value={editing}
            // The field replaces the button that opened it: the focus moves to it.
            ref={(field) => field?.focus({ preventScroll: true })}
            onInput={(event) => setEditing(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.stopPropagation();
                setEditing(undefined);
              }
            }}
          />
          <div class="actions">
            <button type="submit">Save and resend</button>
            <button type="button" class="quiet" onClick={() => setEditing(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      ) : turn.role === 'assistant' && markdown ? (
        <div class="content markdown">
          {blocks.map((html, index) => (
            // The Markdown renderer escapes any HTML the model wrote (markdown.ts). One
            // element per block: Preact sets innerHTML only when a block's HTML changed, so
            // while streaming only the last one is replaced.
            <div key={index} class="block" dangerouslySetInnerHTML={{ __html: html }} />
          ))}
        </div>
      ) : (
        <div class="content plain">{turn.text}</div>
      )}
      {turn.note && turn.state === 'streaming' && !turn.text && (
        <p class="note" aria-busy="true">
          {turn.note}
        </p>
      )}
      {turn.state === 'stopped' && !turn.text && (
        <p class="note">Stopped before the answer began: this question is not kept.</p>
      )}
      {turn.state === 'failed' && (
        <p class="note">This question is not kept: retry it, or edit it and send it again.</p>
      )}
      <Alert message={turn.error} />
      {turn.stats && <Stats stats={turn.stats} traceUrl={props.traceUrl} />}
      {!busy && editing === undefined && (props.onEdit || props.onRegenerate) && (
        <div class="actions">
          {props.onEdit && (
            <button type="button" class="quiet" onClick={() => setEditing(turn.text)}>
              Edit
            </button>
          )}
          {props.onRegenerate && (
            <button type="button" class="quiet" onClick={props.onRegenerate}>
              {turn.state === 'failed' || turn.state === 'stopped' ? 'Retry' : 'Regenerate'}
            </button>
          )}
        </div>
      )}
    </article>
  );
}
