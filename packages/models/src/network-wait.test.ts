import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeHuggingFace, unusedPort } from '@hrserve/test-support/fake-hugging-face';
import { afterEach, describe, expect, it } from 'vitest';
import { type DownloadProgress, ModelLoadError, resolveModelSource } from './index.js';
import { isNetworkFailure, type NetworkRetry, retryDelayMs } from './network-wait.js';

/** The bytes of the "model" the fake Hugging Face serves (resolving does not parse it). */
const MODEL = Buffer.from('GGUF fake model bytes for a download test '.repeat(64));
const MODELS = { 'someone/tiny:Q8_0': MODEL };

const servers: FakeHuggingFace[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
const serve = async (port = 0) => {
  const server = await FakeHuggingFace.start(MODELS, port);
  servers.push(server);
  return server;
};

const options = async (port: number) => ({
  directory: await mkdtemp(join(tmpdir(), 'models-')),
  subject: 'LLMCHAT_MODEL is "hf:someone/tiny:Q8_0"',
  setting: 'LLMCHAT_MODEL',
  huggingFaceEndpoint: `http://127.0.0.1:${port}/`,
});

describe('an hf: download at start with no network yet', () => {
  it('retries, backing off, and downloads once the network is there', async () => {
    const port = await unusedPort();
    const retries: NetworkRetry[] = [];
    const progress: DownloadProgress[] = [];
    const path = await resolveModelSource('hf:someone/tiny:Q8_0', {
      ...(await options(port)),
      onProgress: (report) => progress.push(report),
      waitForNetwork: {
        waitMs: 30_000,
        firstDelayMs: 50,
        onRetry: async (retry) => {
          retries.push(retry);
          // The network comes up after the second failure.
          if (retries.length === 2) await serve(port);
        },
      },
    });
    expect(await readFile(path)).toEqual(MODEL);
    expect(retries.map((retry) => retry.attempt)).toEqual([1, 2]);
    expect(retries.map((retry) => retry.delayMs)).toEqual([50, 100]);
    // Each report a new whole percent, up to 100; `tenth` once per 10% step reached.
    const percents = progress.map((report) => report.percent);
    expect(percents.at(-1)).toBe(100);
    expect(percents).toEqual([...new Set(percents)].sort((a, b) => a - b));
    const tenths = progress
      .filter((report) => report.tenth)
      .map((report) => Math.floor(report.percent / 10));
    expect(tenths).toEqual([...new Set(tenths)].sort((a, b) => a - b));
    expect(tenths.at(-1)).toBe(10);
  });

  it('fails at once without a wait (a request loading on demand), saying the network is unreachable', async () => {
    const port = await unusedPort();
    const error = await resolveModelSource('hf:someone/tiny:Q8_0', await options(port)).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(
      /^Could not download hf:someone\/tiny:Q8_0: the network is unreachable .*point LLMCHAT_MODEL at the file's path\.$/,
    );
  });

  it('gives up when the wait is over, saying how long it tried', async () => {
    const port = await unusedPort();
    const retries: NetworkRetry[] = [];
    const error = await resolveModelSource('hf:someone/tiny:Q8_0', {
      ...(await options(port)),
      waitForNetwork: {
        waitMs: 1_500,
        firstDelayMs: 200,
        onRetry: (retry) => void retries.push(retry),
      },
    }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /the network is unreachable .*still after \d+ s of retries/,
    );
    // Doubling delays, and never one that would end past the wait (1.6 s).
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.map((retry) => retry.delayMs)).toEqual([200, 400, 800].slice(0, retries.length));
  });

  it('does not retry what the network cannot fix: a quantization that does not exist', async () => {
    const server = await serve();
    const retries: NetworkRetry[] = [];
    const error = await resolveModelSource('hf:someone/tiny:Q2_K', {
      ...(await options(Number(new URL(server.url).port))),
      waitForNetwork: {
        waitMs: 30_000,
        firstDelayMs: 50,
        onRetry: (retry) => void retries.push(retry),
      },
    }).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain('Could not resolve hf:someone/tiny:Q2_K');
    expect(retries).toEqual([]);
  });
});

describe('isNetworkFailure and retryDelayMs', () => {
  it('recognises fetch and DNS failures through causes, and nothing else', () => {
    expect(isNetworkFailure(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }))).toBe(
      true,
    );
    expect(isNetworkFailure(new Error('x', { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(isNetworkFailure(new Error('Cannot get quantization "Q2_K"'))).toBe(false);
    // A certificate the host does not trust is not fixed by waiting.
    expect(
      isNetworkFailure(
        new TypeError('fetch failed', { cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } }),
      ),
    ).toBe(false);
  });

  it('doubles from 2 s up to a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelayMs(attempt))).toEqual([
      2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ]);
  });
});
