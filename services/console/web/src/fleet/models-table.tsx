import { useState } from 'preact/hooks';
import { Alert } from '../alert';
import { callJson, describeError, servicePath } from '../api';
import { formatBytes, formatExpiry } from '../format';
import type { FleetService } from './fleet-data';

/**
 * A service's models: loaded or not, RAM estimate and keep-alive while loaded, and load and
 * unload for services that load models on demand (those answering Ollama's /api/ps).
 */
export function ModelsTable(props: { service: FleetService; onChange: () => void }) {
  const { service } = props;
  const [pending, setPending] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const loadable = service.loaded !== undefined;
  const models =
    service.models?.map((model) => model.id) ??
    service.health?.models?.map((model) => model.id ?? model.source ?? '?') ??
    [];

  // Ollama's way, which llmchat follows: an empty chat loads; keep_alive 0 unloads.
  const act = async (model: string, unload: boolean) => {
    setPending(model);
    try {
      await callJson(servicePath(service.name, '/api/chat'), {
        json: { model, messages: [], stream: false, ...(unload ? { keep_alive: 0 } : {}) },
      });
      setError(undefined);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setPending(undefined);
      props.onChange();
    }
  };

  return (
    <section aria-label={`${service.name} models`}>
      <h3>Models</h3>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">State</th>
              <th scope="col">RAM (estimate)</th>
              <th scope="col">Keep-alive</th>
              {loadable && (
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {models.map((id) => {
              const resident = service.loaded?.find((model) => model.name === id);
              const loaded =
                resident !== undefined ||
                service.models?.find((model) => model.id === id)?.loaded === true ||
                service.health?.models?.some((model) => model.id === id && model.loaded) === true;
              return (
                <tr key={id} data-model={id}>
                  <td class="mono">{id}</td>
                  <td class="model-state">
                    {pending === id ? 'working…' : loaded ? 'loaded' : 'not loaded'}
                  </td>
                  <td>{resident ? formatBytes(resident.size) : '–'}</td>
                  <td>{resident ? formatExpiry(resident.expires_at) : '–'}</td>
                  {loadable && (
                    <td>
                      <button
                        type="button"
                        class="quiet small"
                        disabled={pending !== undefined}
                        aria-label={`${loaded ? 'Unload' : 'Load'} ${id}`}
                        onClick={() => act(id, loaded)}
                      >
                        {loaded ? 'Unload' : 'Load'}
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Alert message={error} />
    </section>
  );
}
