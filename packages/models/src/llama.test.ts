import { LlamaLogLevel } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { createLlama, GpuUnavailableError, llamaLogBridge } from './llama.js';

describe('llamaLogBridge', () => {
  it('logs llama.cpp errors as errors, the rest as warnings, trimmed, blank lines dropped', () => {
    const lines: Array<[string, object, string]> = [];
    const bridge = llamaLogBridge({
      warn: (fields, message) => lines.push(['warn', fields, message]),
      error: (fields, message) => lines.push(['error', fields, message]),
    });
    bridge(LlamaLogLevel.warn, 'load: bad special token\n');
    bridge(LlamaLogLevel.error, 'failed to decode');
    bridge(LlamaLogLevel.fatal, 'abort');
    bridge(LlamaLogLevel.warn, '  \n');
    expect(lines).toEqual([
      ['warn', { llama: 'load: bad special token' }, 'llama.cpp'],
      ['error', { llama: 'failed to decode' }, 'llama.cpp'],
      ['error', { llama: 'abort' }, 'llama.cpp'],
    ]);
  });
});

describe('createLlama with a GPU backend the host does not have', () => {
  it('fails with one line: what was asked for, what there is, how to fix it (was NoBinaryFoundError)', async () => {
    const log = { warn: () => {}, error: () => {} };
    // No CUDA on the test machines: an error any host without it must explain.
    const error = await createLlama({
      gpu: 'cuda',
      gpuSetting: 'LLMCHAT_GPU',
      maxThreads: 1,
      log,
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (error === undefined) return; // a host with CUDA: nothing to explain
    expect(error).toBeInstanceOf(GpuUnavailableError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^LLMCHAT_GPU=cuda asked for CUDA, but .* \(it can use: CPU\)/);
    expect(message).toContain('LLMCHAT_GPU=auto');
    expect(message).toContain('build:addon --gpu cuda');
  });

  it('metal on a host that is not a Mac is an error too, not a silent CPU', async () => {
    if (process.platform === 'darwin') return;
    const error = await createLlama({
      gpu: 'metal',
      gpuSetting: 'EMBED_GPU',
      maxThreads: 1,
      log: { warn: () => {}, error: () => {} },
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GpuUnavailableError);
    expect((error as Error).message).toMatch(/^EMBED_GPU=metal asked for METAL/);
  });
});
