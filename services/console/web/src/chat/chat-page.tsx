import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Alert } from '../alert';
import { useFleet } from '../fleet/fleet-data';
import { ConversationList } from './conversation-list';
import { MessageView } from './message-view';
import { chatModels, choiceKey, type ModelChoice } from './model-choice';
import { invalidParameter, ParametersPanel } from './parameters-panel';
import { loadModelChoice, loadParameters, saveModelChoice, saveParameters } from './settings';
import { useChat } from './use-chat';
import { loadMarkdown } from './use-markdown';

/** Chat with any model of any chat service; conversations are kept by the service. */
export function ChatPage({ route }: { route: { service?: string; conversation?: string } }) {
  // The fleet again every 15 s, every 3 s while no chat service answers (one coming back shows soon).
  const [pollMs, setPollMs] = useState(15_000);
  const { fleet, error: fleetError } = useFleet(pollMs);
  const models = useMemo(() => chatModels(fleet), [fleet]);
  useEffect(() => setPollMs(models.length ? 15_000 : 3_000), [models.length]);
  // The Markdown renderer once the page is ready to chat, so it does not delay that (an
  // answer on screen asks for it at once: chat/use-markdown.ts).
  useEffect(() => {
    if (fleet) loadMarkdown().catch(() => undefined);
  }, [fleet !== undefined]);
  const chatServices = useMemo(() => [...new Set(models.map((model) => model.service))], [models]);
  const chat = useChat({ chatServices, route });
  const [choice, setChoice] = useState<string | undefined>(loadModelChoice);
  const [parameters, setParameters] = useState(loadParameters);
  const [draft, setDraft] = useState('');
  const [parameterError, setParameterError] = useState<string | undefined>();
  const messages = useRef<HTMLDivElement>(null);

  // Opening a conversation picks its model, when its service still has it; else the last
  // one picked stays. (Keyed by value: the fleet is read again every 15 s.)
  const modelsKey = models.map(choiceKey).join(' ');
  useEffect(() => {
    const { current } = chat;
    if (!current?.model) return;
    const key = choiceKey({ service: current.service, model: current.model });
    if (modelsKey.split(' ').includes(key)) setChoice(key);
  }, [chat.current?.id, modelsKey]);

  const model: ModelChoice | undefined =
    models.find((candidate) => choiceKey(candidate) === choice) ?? models[0];

  // Esc stops the answer wherever the focus is.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && chat.busy) chat.stop();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [chat.busy, chat.stop]);

  // A conversation opens at its end, a question sent shows with its answer, and the answer
  // is followed as it grows, unless the reader scrolled up meanwhile.
  const toEnd = useRef(true);
  useEffect(() => {
    toEnd.current = true;
  }, [chat.current?.id]);
  useEffect(() => {
    const list = messages.current;
    if (!list) return;
    if (toEnd.current || list.scrollHeight - list.scrollTop - list.clientHeight < 120) {
      list.scrollTop = list.scrollHeight;
      if (chat.turns.length) toEnd.current = false;
    }
  }, [chat.turns]);

  /** The parameters, checked before anything is sent (Send, Edit, Regenerate). */
  const parametersOk = () => {
    const invalid = invalidParameter(parameters);
    setParameterError(invalid);
    return invalid === undefined;
  };

  /** Whether the fleet says the model is not loaded: its first answer waits for the load. */
  const notLoaded = (choice: ModelChoice) =>
    fleet?.services
      .find((service) => service.name === choice.service)
      ?.models?.find((candidate) => candidate.id === choice.model)?.loaded === false;

  const submit = () => {
    if (!model || chat.busy || !chat.ready || !draft.trim()) return;
    if (!parametersOk()) return;
    const text = draft;
    setDraft('');
    toEnd.current = true;
    void chat.send({
      text,
      model,
      parameters,
      kept: chat.turns.filter((turn) => turn.itemId),
      loading: notLoaded(model),
    });
  };

  const lastIndex = chat.turns.length - 1;
  return (
    <div class="chat">
      <ConversationList
        conversations={chat.conversations}
        currentId={chat.current?.id}
        showService={chatServices.length > 1}
        available={chatServices.length > 0 || !fleet}
        onNew={chat.startNew}
        onRename={chat.rename}
        onDelete={chat.remove}
        onImport={(file) => void chat.importFile(file, model)}
      />
      <main class="conversation" aria-label="Chat">
        <div class="conversation-head">
          <h1>{chat.current?.title || 'New conversation'}</h1>
          <div class="field inline">
            <label for="model">Model</label>
            <select
              id="model"
              value={model ? choiceKey(model) : ''}
              disabled={chat.busy}
              onChange={(event) => {
                setChoice(event.currentTarget.value);
                saveModelChoice(event.currentTarget.value);
              }}
            >
              {models.length === 0 && <option value="">no chat service answers</option>}
              {chatServices.map((service) => (
                <optgroup key={service} label={service}>
                  {models
                    .filter((candidate) => candidate.service === service)
                    .map((candidate) => (
                      <option key={choiceKey(candidate)} value={choiceKey(candidate)}>
                        {candidate.model}
                      </option>
                    ))}
                </optgroup>
              ))}
            </select>
          </div>
          {chat.current && (
            <button type="button" class="quiet" onClick={chat.download}>
              Export
            </button>
          )}
        </div>
        <ParametersPanel
          parameters={parameters}
          onChange={(next) => {
            setParameters(next);
            saveParameters(next);
          }}
        />
        {/* Said to screen readers once per answer (the answer itself changes 20 times a second). */}
        <p class="visually-hidden" role="status">
          {chat.busy ? 'Answering…' : chat.turns.at(-1)?.state === 'stopped' ? 'Stopped.' : ''}
        </p>
        <div class="messages" ref={messages}>
          {chat.turns.map((turn, index) => (
            <MessageView
              key={turn.itemId ?? `local-${index}`}
              turn={turn}
              index={index}
              busy={chat.busy}
              traceUrl={fleet?.trace_url ?? null}
              onEdit={
                turn.role === 'user' && model
                  ? (text) =>
                      parametersOk() &&
                      void chat.resendFrom(index, {
                        text,
                        model,
                        parameters,
                        loading: notLoaded(model),
                      })
                  : undefined
              }
              onRegenerate={
                index === lastIndex && turn.role === 'assistant' && model
                  ? () => {
                      const question = chat.turns[index - 1];
                      if (question?.role === 'user' && parametersOk()) {
                        void chat.resendFrom(index - 1, {
                          text: question.text,
                          model,
                          parameters,
                          loading: notLoaded(model),
                        });
                      }
                    }
                  : undefined
              }
            />
          ))}
        </div>
        <Alert message={parameterError ?? chat.error ?? fleetError} />
        <form
          class="composer"
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <label class="visually-hidden" for="message">
            Message
          </label>
          <textarea
            id="message"
            rows={3}
            placeholder="Message (Enter sends, Shift+Enter for a new line, Esc stops)"
            value={draft}
            onInput={(event) => setDraft(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                submit();
              }
            }}
          />
          {/* One button, Send or Stop: the focus stays on it when it turns. */}
          <button
            type={chat.busy ? 'button' : 'submit'}
            class={chat.busy ? 'danger' : undefined}
            disabled={!chat.busy && (!model || !chat.ready || !draft.trim())}
            onClick={chat.busy ? chat.stop : undefined}
          >
            {chat.busy ? 'Stop' : 'Send'}
          </button>
        </form>
      </main>
    </div>
  );
}
