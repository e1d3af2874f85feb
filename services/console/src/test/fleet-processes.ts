import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support';

export const MODELS_DIR = fileURLToPath(new URL('../../../../../shared/models', import.meta.url));
export const STORIES = join(MODELS_DIR, 'stories260K.gguf');
export const SYNTH_30M = join(MODELS_DIR, 'synth-30M-q8_0.gguf');

const serviceRoot = (name: string) => fileURLToPath(new URL(`../../../${name}`, import.meta.url));

export interface TestFleet {
  llmchat: SpawnedService;
  embed: SpawnedService | undefined;
  console: SpawnedService;
  /** The port table the console reads. */
  portsFile: string;
  stop(): Promise<void>;
}

/**
 * Real llmchat (stories260K, with synth-30M as a second model loaded on demand) and embed
 * processes, and the console in front of them, finding them through a port table of their
 * own, as it finds a fleet's services.
 */
export async function startFleet(
  options: {
    apiKeys?: string;
    embed?: boolean;
    llmchatEnv?: Record<string, string>;
    consoleEnv?: Record<string, string>;
  } = {},
): Promise<TestFleet> {
  const keys: Record<string, string> = options.apiKeys ? { API_KEYS: options.apiKeys } : {};
  const [llmchat, embed] = await Promise.all([
    spawnService({
      cwd: serviceRoot('llmchat'),
      env: {
        LLMCHAT_MODEL: STORIES,
        LLMCHAT_MODELS: `synth-30M=${SYNTH_30M}`,
        LLMCHAT_PARALLEL: '2',
        LLMCHAT_THREADS: '1',
        ...keys,
        ...options.llmchatEnv,
      },
    }),
    options.embed === false
      ? Promise.resolve(undefined)
      : spawnService({ cwd: serviceRoot('embed'), env: { EMBED_MODEL: STORIES, ...keys } }),
  ]);
  const portsFile = join(mkdtempSync(join(tmpdir(), 'console-ports-')), 'ports.json');
  const port = (service: SpawnedService) => Number(new URL(service.url).port);
  writeFileSync(
    portsFile,
    JSON.stringify({
      llmchat: port(llmchat),
      ...(embed ? { embed: port(embed) } : {}),
      console: 2022,
    }),
  );
  const consoleService = await spawnConsole(portsFile, { ...keys, ...options.consoleEnv });
  return {
    llmchat,
    embed,
    console: consoleService,
    portsFile,
    async stop() {
      await Promise.all([consoleService.stop(), llmchat.stop(), embed?.stop()]);
    },
  };
}

/** A console process reading `portsFile` (the bench starts a second one, on another build). */
export function spawnConsole(portsFile: string, env: Record<string, string> = {}) {
  return spawnService({
    cwd: serviceRoot('console'),
    env: { HRSERVE_PORTS_FILE: portsFile, CONSOLE_SAMPLE_INTERVAL: '1s', ...env },
  });
}

/** What the tests read of a service's /health. */
export interface TestHealth {
  status: string;
  queue: { running: number; waiting: number; rejected: number };
  models: Array<{ id: string }>;
}

export async function healthOf(service: SpawnedService, apiKey?: string): Promise<TestHealth> {
  const response = await fetch(`${service.url}/health`, {
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return (await response.json()) as TestHealth;
}

/** Polls `check` until it returns true, or fails after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}
