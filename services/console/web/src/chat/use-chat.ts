import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem, describeError } from '../api';
import { navigate } from '../route';
import {
  type ConversationSummary,
  createConversation,
  deleteConversation,
  deleteTurns,
  exportConversation,
  getConversation,
  listConversations,
  parseExport,
  readTurns,
  titleFrom,
  updateConversation,
} from './conversations';
import type { ShownTurn } from './message-view';
import type { ModelChoice } from './model-choice';
import { type Parameters, respond } from './respond';

/** Why an answer could not start, in the page's words (429 and loading say when to retry). */
function failureText(error: unknown): string {
  if (error instanceof ApiProblem && error.status === 429) {
    return `The service is busy: ${error.display}.`;
  }
  return describeError(error);
}

/**
 * The chat's state: the conversations of every chat service, the open one's turns, and the
 * answer being streamed. The server keeps everything; this holds what the page shows.
 */
export function useChat(options: {
  chatServices: string[];
  route: { service?: string; conversation?: string };
}) {
  const { chatServices, route } = options;
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [current, setCurrent] = useState<ConversationSummary | undefined>();
  const [turns, setTurns] = useState<ShownTurn[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const controller = useRef<AbortController | undefined>(undefined);
  /** The conversation this page just created: opening it must not reload what is on screen. */
  const created = useRef<string | undefined>(undefined);
  const servicesKey = chatServices.join(',');

  const reloadList = useCallback(async () => {
    const lists = await Promise.all(
      servicesKey
        .split(',')
        .filter(Boolean)
        .map((service) => listConversations(service).catch(() => [])),
    );
    setConversations(lists.flat().sort((a, b) => b.createdAt - a.createdAt));
  }, [servicesKey]);

  useEffect(() => {
    void reloadList();
  }, [reloadList]);

  // The conversation in the URL: read from its service (a reload, a link, another browser).
  useEffect(() => {
    if (!route.service || !route.conversation) {
      setCurrent(undefined);
      setTurns([]);
      return;
    }
    if (created.current === route.conversation) return;
    created.current = undefined;
    let stale = false;
    const { service, conversation } = route;
    Promise.all([getConversation(service, conversation), readTurns(service, conversation)])
      .then(([summary, stored]) => {
        if (stale) return;
        setCurrent(summary);
        setTurns(stored);
        setError(undefined);
      })
      .catch((failure: unknown) => !stale && setError(describeError(failure)));
    return () => {
      stale = true;
    };
  }, [route.service, route.conversation]);

  const stop = useCallback(() => controller.current?.abort(), []);

  /** Sends `text` as the next turn, after `kept` (the turns before it). */
  const send = useCallback(
    async (text: string, model: ModelChoice, parameters: Parameters, kept: ShownTurn[]) => {
      if (busy || !text.trim()) return;
      setBusy(true);
      setError(undefined);
      let conversation = current;
      const answer: ShownTurn = { role: 'assistant', text: '', state: 'streaming' };
      try {
        if (!conversation || conversation.service !== model.service) {
          // A model of another service: the conversation continues there, as a copy.
          conversation = await createConversation(model.service, {
            title: conversation?.title || titleFrom(text),
            model: model.model,
            turns: kept.filter((turn) => turn.itemId),
          });
          created.current = conversation.id;
          setCurrent(conversation);
          navigate({ page: 'chat', service: conversation.service, conversation: conversation.id });
          void reloadList();
        } else if (conversation.model !== model.model) {
          conversation = await updateConversation(conversation, { model: model.model });
          setCurrent(conversation);
        }
        setTurns([...kept, { role: 'user', text }, answer]);
        controller.current = new AbortController();
        // Text arrives token by token; the page repaints at most once a frame.
        let frame = 0;
        const paint = () => {
          frame = 0;
          setTurns((shown) => [...shown.slice(0, -1), { ...answer }]);
        };
        answer.stats = await respond(
          {
            service: conversation.service,
            model: model.model,
            conversation: conversation.id,
            input: text,
            parameters,
            signal: controller.current.signal,
          },
          (delta) => {
            answer.text += delta;
            frame ||= requestAnimationFrame(paint);
          },
        );
        cancelAnimationFrame(frame);
        answer.state = undefined;
        // The stored turns, with their ids (edit, regenerate), and this answer's figures.
        const stored: ShownTurn[] = await readTurns(conversation.service, conversation.id);
        const last = stored.at(-1);
        if (last?.role === 'assistant')
          stored[stored.length - 1] = { ...last, stats: answer.stats };
        setTurns(stored);
      } catch (failure) {
        if (controller.current?.signal.aborted) answer.state = 'stopped';
        else {
          answer.state = 'failed';
          answer.error = failureText(failure);
        }
        setTurns((shown) =>
          shown.at(-1) === undefined || shown.at(-1)?.role !== 'assistant'
            ? [...kept, { role: 'user', text }, { ...answer }]
            : [...shown.slice(0, -1), { ...answer }],
        );
      } finally {
        controller.current = undefined;
        setBusy(false);
      }
    },
    [busy, current, reloadList],
  );

  /** Edit and resend, regenerate: the stored turns from `index` on go, then `text` is sent. */
  const resendFrom = useCallback(
    async (index: number, text: string, model: ModelChoice, parameters: Parameters) => {
      if (busy) return;
      try {
        if (current) await deleteTurns(current, turns.slice(index));
      } catch (failure) {
        setError(describeError(failure));
        return;
      }
      await send(text, model, parameters, turns.slice(0, index));
    },
    [busy, current, turns, send],
  );

  const rename = useCallback(
    async (conversation: ConversationSummary, title: string) => {
      try {
        const updated = await updateConversation(conversation, { title });
        if (current?.id === updated.id) setCurrent(updated);
        await reloadList();
      } catch (failure) {
        setError(describeError(failure));
      }
    },
    [current, reloadList],
  );

  const remove = useCallback(
    async (conversation: ConversationSummary) => {
      try {
        await deleteConversation(conversation);
        if (current?.id === conversation.id) navigate({ page: 'chat' });
        await reloadList();
      } catch (failure) {
        setError(describeError(failure));
      }
    },
    [current, reloadList],
  );

  const download = useCallback(() => {
    if (!current) return;
    const data = exportConversation(
      current,
      turns.filter((turn) => turn.itemId),
    );
    const url = URL.createObjectURL(
      new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' }),
    );
    const link = document.createElement('a');
    link.href = url;
    link.download = `${(current.title || current.id).replace(/[^\w.-]+/g, '_').slice(0, 80)}.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }, [current, turns]);

  const importFile = useCallback(
    async (file: File, model: ModelChoice | undefined) => {
      try {
        if (!model) throw new Error('Pick a model first: the conversation is kept by its service.');
        const exported = parseExport(JSON.parse(await file.text()));
        const conversation = await createConversation(model.service, {
          title: exported.title || file.name,
          model: exported.model ?? model.model,
          turns: exported.messages.map((message) => ({
            role: message.role,
            text: message.content,
          })),
        });
        await reloadList();
        navigate({ page: 'chat', service: conversation.service, conversation: conversation.id });
      } catch (failure) {
        setError(`Import failed: ${describeError(failure)}`);
      }
    },
    [reloadList],
  );

  const startNew = useCallback(() => {
    created.current = undefined;
    navigate({ page: 'chat' });
  }, []);

  return {
    conversations,
    current,
    turns,
    busy,
    error,
    send,
    stop,
    resendFrom,
    rename,
    remove,
    download,
    importFile,
    startNew,
  };
}
