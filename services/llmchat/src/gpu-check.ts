/**
 * What this host gives llmchat: the GPU backends node-llama-cpp can use here,
 * their devices and memory, and a short generation with LLMCHAT_GPU=auto, so a
 * GPU host can be checked in minutes (`pnpm gpu-check`, `just gpu-check`).
 *
 *   pnpm gpu-check [--model <path or hf: URI>] [--tokens 64]
 *
 * The model defaults to LLMCHAT_MODEL, else the shared synth-30M beside the
 * checkout. Exit 0 when the generation ran, 1 when it did not.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLlama, type GpuSetting, resolveModelSource } from '@hrserve/models';
import { getLlamaGpuTypes, LlamaCompletion } from 'node-llama-cpp';

const SHARED_MODEL = fileURLToPath(
  new URL('../../../../shared/models/synth-30M-q8_0.gguf', import.meta.url),
);
const BACKENDS: GpuSetting[] = ['cuda', 'vulkan', 'metal'];
const GIB = 2 ** 30;

const { values } = parseArgs({
  options: { model: { type: 'string' }, tokens: { type: 'string', default: '64' } },
});
const source =
  values.model ?? process.env.LLMCHAT_MODEL ?? (existsSync(SHARED_MODEL) ? SHARED_MODEL : '');
const tokens = Number(values.tokens);
if (!source || !Number.isInteger(tokens) || tokens < 1) {
  process.stderr.write(
    'usage: pnpm gpu-check [--model <path or hf: URI>] [--tokens N]\n(no model given, LLMCHAT_MODEL unset, no ../shared/models/synth-30M-q8_0.gguf)\n',
  );
  process.exit(2);
}

const quiet = { warn() {}, error() {} };
const say = (line: string) => process.stdout.write(`${line}\n`);

say(`platform: ${process.platform} ${process.arch}`);
say(
  `backends node-llama-cpp supports here: ${(await getLlamaGpuTypes('supported')).map((type) => type || 'cpu').join(', ')}`,
);
for (const backend of BACKENDS) {
  try {
    const llama = await createLlama({
      gpu: backend,
      gpuSetting: 'LLMCHAT_GPU',
      maxThreads: 1,
      log: quiet,
    });
    const vram = await llama.getVramState();
    const devices = await llama.getGpuDeviceNames();
    say(
      `  ${backend}: usable — ${devices.join(', ') || 'a device'}, ${(vram.total / GIB).toFixed(1)} GiB (${(vram.free / GIB).toFixed(1)} free)`,
    );
    await llama.dispose();
  } catch (error) {
    // The one-line message the services print for this backend (GpuUnavailableError).
    const message = error instanceof Error ? error.message : String(error);
    say(`  ${backend}: not usable — ${message.split('(it can use')[0]?.trim()}`);
  }
}

const llama = await createLlama({ gpu: 'auto', maxThreads: 0, log: quiet });
say(`LLMCHAT_GPU=auto picks: ${llama.gpu || 'cpu'}`);
const path = await resolveModelSource(source, {
  directory: process.env.LLMCHAT_MODELS_DIR ?? join(homedir(), '.cache', 'hrserve', 'models'),
  subject: `the model "${source}"`,
  setting: '--model',
});
const model = await llama.loadModel({ modelPath: path, gpuLayers: 'auto' });
say(`model: ${path} — ${model.gpuLayers}/${model.fileInsights.totalLayers} layers on the GPU`);
const context = await model.createContext({ contextSize: 512 });
const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
const started = performance.now();
let firstAt = 0;
let generated = 0;
await completion.generateCompletion('Once upon a time', {
  maxTokens: tokens,
  onToken: (chunk) => {
    firstAt ||= performance.now();
    generated += chunk.length;
  },
});
const seconds = (performance.now() - firstAt) / 1000;
say(
  generated > 0
    ? `generated ${generated} tokens: first after ${(firstAt - started).toFixed(0)} ms, then ${((generated - 1) / seconds).toFixed(1)} tokens/s`
    : 'generated no tokens',
);
await context.dispose();
await model.dispose();
await llama.dispose();
process.exit(generated > 0 ? 0 : 1);
