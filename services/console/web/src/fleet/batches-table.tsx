import { useState } from 'preact/hooks';
import { Alert } from '../alert';
import { callJson, describeError, servicePath } from '../api';
import type { Batch } from './fleet-data';

const UNFINISHED = new Set(['validating', 'in_progress', 'finalizing']);

/** A service's newest batches: progress, cancel, and the output and error files. */
export function BatchesTable(props: { service: string; batches: Batch[]; onChange: () => void }) {
  const [error, setError] = useState<string | undefined>();
  /** The batch whose Cancel was pressed once: a second press cancels it. */
  const [confirming, setConfirming] = useState<string | undefined>();
  const cancel = async (batch: Batch) => {
    setConfirming(undefined);
    try {
      await callJson(servicePath(props.service, `/v1/batches/${batch.id}/cancel`), {
        method: 'POST',
      });
      setError(undefined);
      props.onChange();
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  const fileLink = (id: string | null | undefined, label: string) =>
    id ? (
      <a href={servicePath(props.service, `/v1/files/${id}/content`)} download={`${id}.jsonl`}>
        {label}
      </a>
    ) : null;
  return (
    <section class="batches" aria-label={`${props.service} batches`}>
      <h3>Batches</h3>
      {props.batches.length === 0 ? (
        <p class="empty">No batches.</p>
      ) : (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Batch</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Files</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.batches.map((batch) => {
                const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
                const done = counts.completed + counts.failed;
                return (
                  <tr key={batch.id} data-batch={batch.id}>
                    <td class="mono">{batch.id}</td>
                    <td class="mono">{batch.endpoint}</td>
                    <td>{batch.status}</td>
                    <td>
                      <progress
                        max={counts.total || 1}
                        value={done}
                        aria-label={`${batch.id} progress`}
                      />{' '}
                      <span class="progress-text">
                        {done}/{counts.total}
                        {counts.failed ? ` (${counts.failed} failed)` : ''}
                      </span>
                    </td>
                    <td>
                      {fileLink(batch.output_file_id, 'output')}{' '}
                      {fileLink(batch.error_file_id, 'errors')}
                    </td>
                    <td>
                      {UNFINISHED.has(batch.status) &&
                        (confirming === batch.id ? (
                          <>
                            <button
                              type="button"
                              class="danger small"
                              aria-label={`Really cancel ${batch.id}`}
                              ref={(button) => button?.focus()}
                              onClick={() => cancel(batch)}
                            >
                              Cancel it?
                            </button>
                            <button
                              type="button"
                              class="quiet small"
                              onClick={() => setConfirming(undefined)}
                            >
                              Keep running
                            </button>
                          </>
                        ) : (
                          <button
                            type="button"
                            class="quiet small"
                            aria-label={`Cancel ${batch.id}`}
                            onClick={() => setConfirming(batch.id)}
                          >
                            Cancel
                          </button>
                        ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Alert message={error} />
    </section>
  );
}
