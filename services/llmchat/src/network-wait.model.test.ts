import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support';
import { FakeHuggingFace, unusedPort } from '@hrserve/test-support/fake-hugging-face';
import { FakeNotifySocket } from '@hrserve/test-support/notify-socket';
import { afterEach, describe, expect, it } from 'vitest';
import { STORIES_MODEL } from './__fixtures__/llmchat-server.js';

const LLMCHAT_ROOT = fileURLToPath(new URL('../', import.meta.url));

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('llmchat started before the network is up (an hf: model not downloaded yet)', () => {
  it('says it is waiting (log, /health, systemd), retries, and serves once the model can be downloaded', async () => {
    const port = await unusedPort();
    const notify = await FakeNotifySocket.start();
    cleanup.push(() => notify.stop());
    const service: SpawnedService = await spawnService({
      cwd: LLMCHAT_ROOT,
      env: {
        LLMCHAT_MODEL: 'hf:someone/stories:Q8_0',
        LLMCHAT_MODELS_DIR: await mkdtemp(join(tmpdir(), 'llmchat-models-')),
        HF_ENDPOINT: `http://127.0.0.1:${port}/`,
        NOTIFY_SOCKET: notify.path,
      },
    });
    cleanup.push(() => service.stop());

    const waiting = await service.waitForLog((line) =>
      String(line.msg).startsWith('no network to download hf:someone/stories:Q8_0 yet'),
    );
    expect(waiting.level).toBe(40);
    expect(String(waiting.msg)).toMatch(
      /trying again in 2 s \(attempt 1; the start gives up after 10 minutes\)/,
    );
    const loading = await fetch(`${service.url}/health`);
    expect(loading.status).toBe(503);
    expect(await loading.json()).toMatchObject({
      status: 'loading',
      reason: 'waiting for the network to download hf:someone/stories:Q8_0 (attempt 1)',
    });
    await notify.waitFor(
      (message) =>
        message.STATUS ===
        'loading: waiting for the network to download hf:someone/stories:Q8_0 (attempt 1)',
    );

    // The network comes up: the retry after 2 s downloads the model and the service is ready.
    const huggingFace = await FakeHuggingFace.start(
      { 'someone/stories:Q8_0': await readFile(STORIES_MODEL) },
      port,
    );
    cleanup.push(() => huggingFace.close());
    await service.waitForLog((line) => line.msg === 'model loaded', 60_000);
    const ready = await fetch(`${service.url}/health`);
    expect(ready.status).toBe(200);
    // systemd heard the download, the load, then READY=1 (so `systemctl start` returned only now).
    await notify.waitFor((message) => message.READY === '1');
    const statuses = notify.messages.map((message) => message.STATUS ?? '');
    expect(
      statuses.some((status) =>
        status.startsWith('loading: downloading hf:someone/stories:Q8_0: '),
      ),
    ).toBe(true);
    expect(
      statuses.some((status) => /^loading: loading stories:Q8_0 \(\d+ MiB\)$/.test(status)),
    ).toBe(true);
    expect(service.child.exitCode).toBeNull();
  });
});
