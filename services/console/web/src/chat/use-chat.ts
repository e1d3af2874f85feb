import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem, describeError } from '../api';
import { navigate } from '../route';
import {
  appendTurns,
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
import { type AnswerStats, type Parameters, respond } from './respond';

/**
 * How often a streaming answer is repainted at most: 20 times a second reads as continuous,
 * and costs a third of painting every frame (the bench's main-thread time per chunk).
 */
const PAINT_INTERVAL_MS = 50;

/** What a stopped answer shows under it once kept. */
const STOPPED: AnswerStats = {
  ttftMs: undefined,
  outputTokens: undefined,
  tokensPerSecond: undefined,
  incomplete: false,
  stopped: true,
  traceId: undefined,
};

/** Why an answer could not start, in the page's words (429 and loading say when to retry). */
function failureText(error: unknown): string {
  if (error instanceof ApiProblem && error.status === 429) {
    return `The service is busy: ${error.display}.`;
  }
  return describeError(error);
}

/** A question to send: its text, the model, and the turns it follows. */
export interface Question {
  text: string;
  model: ModelChoice;
  parameters: Parameters;
  /** The stored turns the question follows. */
  kept: ShownTurn[];
  /** The model is not loaded yet: the answer says it waits for the load. */
  loading: boolean;
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
  /** Set at once (state updates later): a second Enter or click starts nothing. */
  const busyNow = useRef(false);
  const controller = useRef<AbortController | undefined>(undefined);
  /** Bumped when the page leaves a conversation: a send of an older one stops updating it. */
  const generation = useRef(0);
  /** The conversation this page just created: opening it must not reload what is on screen. */
  const created = useRef<string | undefined>(undefined);
  /** The figures of the answers made here, by item id: they stay under their answers. */
  const figures = useRef(new Map<string, AnswerStats>());
  const servicesKey = chatServices.join(',');

  const withFigures = useCallback(
    (stored: ShownTurn[]) =>
      stored.map((turn) => {
        const stats = turn.itemId ? figures.current.get(turn.itemId) : undefined;
        return stats ? { ...turn, stats } : turn;
      }),
    [],
  );

  const reloadList = useCallback(async () => {
    const services = servicesKey.split(',').filter(Boolean);
    const results = await Promise.allSettled(services.map(listConversations));
    const failed = results.flatMap((result, index) =>
      result.status === 'rejected' ? [`${services[index]}: ${describeError(result.reason)}`] : [],
    );
    if (failed.length) setError(`Cannot list the conversations of ${failed.join('; ')}`);
    setConversations(
      results
        .flatMap((result) => (result.status === 'fulfilled' ? result.value : []))
        .sort((a, b) => b.createdAt - a.createdAt),
    );
  }, [servicesKey]);

  useEffect(() => {
    void reloadList();
  }, [reloadList]);

  // Leaving the page stops the answer: nobody would see it.
  useEffect(() => () => controller.current?.abort(), []);

  // The conversation in the URL: read from its service (a reload, a link, another browser).
  useEffect(() => {
    if (created.current !== undefined && created.current === route.conversation) return;
    created.current = undefined;
    // Another conversation now: an answer still streaming for the previous one stops.
    generation.current += 1;
    controller.current?.abort();
    if (!route.service || !route.conversation) {
      setCurrent(undefined);
      setTurns([]);
      return;
    }
    let stale = false;
    const { service, conversation } = route;
    Promise.all([getConversation(service, conversation), readTurns(service, conversation)])
      .then(([summary, stored]) => {
        if (stale) return;
        setCurrent(summary);
        setTurns(withFigures(stored));
        setError(undefined);
      })
      .catch((failure: unknown) => !stale && setError(describeError(failure)));
    return () => {
      stale = true;
    };
  }, [route.service, route.conversation, withFigures]);

  const stop = useCallback(() => controller.current?.abort(), []);

  /**
   * Sends a question: `stored` when the conversation got it (answered, or stopped with text
   * so far); otherwise why not. The caller holds `busy` around it.
   */
  const ask = useCallback(
    async (turn: Question): Promise<{ stored: boolean; failure?: string }> => {
      const { text, model, parameters, kept } = turn;
      const mine = generation.current;
      const live = () => generation.current === mine;
      const show = (update: (shown: ShownTurn[]) => ShownTurn[]) => {
        if (live()) setTurns(update);
      };
      const abort = new AbortController();
      controller.current = abort;
      setError(undefined);
      let conversation = current;
      const answer: ShownTurn = {
        role: 'assistant',
        text: '',
        state: 'streaming',
        ...(turn.loading ? { note: `Loading ${model.model}…` } : {}),
      };
      show(() => [...kept, { role: 'user', text }, { ...answer }]);
      let streaming = true;
      try {
        if (!conversation || conversation.service !== model.service) {
          // A model of another service: the conversation continues there, as a copy.
          conversation = await createConversation(model.service, {
            title: conversation?.title || titleFrom(text),
            model: model.model,
            turns: kept.filter((shown) => shown.itemId),
          });
          abort.signal.throwIfAborted();
          created.current = conversation.id;
          setCurrent(conversation);
          navigate({ page: 'chat', service: conversation.service, conversation: conversation.id });
          void reloadList();
        } else if (conversation.model !== model.model) {
          conversation = await updateConversation(conversation, { model: model.model });
          abort.signal.throwIfAborted();
          if (live()) setCurrent(conversation);
        }
        // Text arrives token by token; the page shows it at most every PAINT_INTERVAL_MS,
        // in an animation frame: each repaint lays out and rasterizes the answer again.
        let scheduled: number | undefined;
        let painted = 0;
        const paint = () => {
          scheduled = undefined;
          // A frame asked for just before the answer ended must not undo what replaced it.
          if (!streaming) return;
          painted = performance.now();
          show((shown) => [...shown.slice(0, -1), { ...answer }]);
        };
        const stats = await respond(
          {
            service: conversation.service,
            model: model.model,
            conversation: conversation.id,
            input: text,
            parameters,
            signal: abort.signal,
          },
          (delta) => {
            answer.text += delta;
            delete answer.note;
            if (scheduled !== undefined) return;
            const wait = Math.max(0, PAINT_INTERVAL_MS - (performance.now() - painted));
            scheduled = window.setTimeout(() => requestAnimationFrame(paint), wait);
          },
        );
        streaming = false;
        window.clearTimeout(scheduled);
        answer.state = undefined;
        answer.stats = stats;
        try {
          // The stored turns, with their ids (edit, regenerate), and this answer's figures.
          const stored = await readTurns(conversation.service, conversation.id);
          const last = stored.at(-1);
          if (last?.role === 'assistant' && last.itemId) figures.current.set(last.itemId, stats);
          show(() => withFigures(stored));
        } catch (failure) {
          show((shown) => [...shown.slice(0, -1), { ...answer }]);
          if (live())
            setError(
              `The answer is kept, but reading the conversation back failed: ${describeError(failure)}`,
            );
        }
        return { stored: true };
      } catch (failure) {
        streaming = false;
        delete answer.note;
        if (!abort.signal.aborted) {
          answer.state = 'failed';
          answer.error = failureText(failure);
        } else if (answer.text && conversation) {
          // Stopped: the question and the answer so far stay in the conversation (the
          // service keeps only finished answers), as a chat keeps what was on screen.
          answer.state = 'stopped';
          try {
            await appendTurns(conversation, [
              { role: 'user', text },
              { role: 'assistant', text: answer.text },
            ]);
          } catch (keeping) {
            answer.error = `Stopped, but keeping the answer so far failed: ${describeError(keeping)}`;
            show((shown) => [...shown.slice(0, -1), { ...answer }]);
            return { stored: false, failure: answer.error };
          }
          try {
            const stored = await readTurns(conversation.service, conversation.id);
            const last = stored.at(-1);
            if (last?.role === 'assistant' && last.itemId) {
              figures.current.set(last.itemId, STOPPED);
            }
            show(() => withFigures(stored));
          } catch (reading) {
            if (live())
              setError(
                `The answer so far is kept, but reading it back failed: ${describeError(reading)}`,
              );
          }
          return { stored: true };
        } else answer.state = 'stopped';
        show((shown) => [...shown.slice(0, -1), { ...answer }]);
        return { stored: false, failure: answer.error ?? 'Stopped before the answer began.' };
      } finally {
        if (controller.current === abort) controller.current = undefined;
      }
    },
    [current, reloadList, withFigures],
  );

  /** Holds `busy` (Send becomes Stop, Edit and Regenerate hide) while `work` runs. */
  const whileBusy = useCallback(async (work: () => Promise<void>) => {
    if (busyNow.current) return;
    busyNow.current = true;
    setBusy(true);
    try {
      await work();
    } finally {
      busyNow.current = false;
      setBusy(false);
    }
  }, []);

  const send = useCallback(
    (turn: Question) =>
      whileBusy(async () => {
        if (turn.text.trim()) await ask(turn);
      }),
    [ask, whileBusy],
  );

  /**
   * Edit and resend, regenerate: the stored turns from `index` on give way to `text` and its
   * answer. They are removed first (the model must not see them), and put back should the
   * new answer fail or be stopped, so nothing is lost.
   */
  const resendFrom = useCallback(
    (index: number, turn: Omit<Question, 'kept'>) =>
      whileBusy(async () => {
        const mine = generation.current;
        const conversation = current;
        const removed = turns.slice(index).filter((shown) => shown.itemId);
        // On another service the conversation continues as a copy: the original stays whole.
        const inPlace = conversation !== undefined && conversation.service === turn.model.service;
        try {
          if (inPlace) await deleteTurns(conversation, removed);
        } catch (failure) {
          setError(describeError(failure));
          return;
        }
        const result = await ask({ ...turn, kept: turns.slice(0, index) });
        if (result.stored || !inPlace || removed.length === 0) return;
        try {
          await appendTurns(conversation, removed);
          const stored = await readTurns(conversation.service, conversation.id);
          if (generation.current !== mine) return;
          setTurns(withFigures(stored));
          setError(`${result.failure ?? 'No answer.'} The earlier turns are back as they were.`);
        } catch (failure) {
          setError(`The earlier turns could not be put back: ${describeError(failure)}`);
        }
      }),
    [current, turns, ask, whileBusy, withFigures],
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
    /** The conversation in the address is the one shown (a send goes to it). */
    ready: !route.conversation || current?.id === route.conversation,
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
