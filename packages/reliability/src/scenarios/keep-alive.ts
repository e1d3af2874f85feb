import { MODELS_DIR, type ScenarioResult, startLlmchat, within } from '../target.js';

/** Not the default model (which stays loaded until room is needed): its keep-alive decides. */
const MODEL = 'synth-30M-q8_0';

const HOUR_MS = 3_600_000;

interface Resident {
  name: string;
  expires_at: string;
}

async function residents(url: string): Promise<Resident[]> {
  const { models } = (await (await fetch(`${url}/api/ps`)).json()) as { models: Resident[] };
  return models.filter((resident) => resident.name === MODEL);
}

const chat = (url: string, keepAlive?: string | number) =>
  fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
      options: { num_predict: 2 },
      ...(keepAlive === undefined ? {} : { keep_alive: keepAlive }),
    }),
  });

/**
 * Issue 17, item 2: `keep_alive` values past setTimeout's 2^31 ms (~24.8 days)
 * used to fire at once and unload the model. Each value is sent on /api/chat,
 * then /api/ps must show the model still loaded with the expiry it asked for.
 */
export async function keepAliveScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const figures: Record<string, string> = {};
  // The setting takes the same path: 1000h at start must keep the model too.
  const service = await startLlmchat({
    LLMCHAT_KEEP_ALIVE: '1000h',
    LLMCHAT_MODELS_DIR: MODELS_DIR,
  });
  try {
    const first = Date.now();
    await (await chat(service.url)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [bySetting] = await residents(service.url);
    figures['LLMCHAT_KEEP_ALIVE=1000h, no keep_alive in the request'] = bySetting
      ? `loaded until ${bySetting.expires_at}`
      : 'unloaded';
    if (!bySetting || Math.abs(Date.parse(bySetting.expires_at) - first - 1000 * HOUR_MS) > 60_000)
      failures.push(`LLMCHAT_KEEP_ALIVE=1000h: ${bySetting?.expires_at ?? 'unloaded at once'}`);

    const cases: Array<[keepAlive: string | number, expectedMs: number | 'forever' | 0]> = [
      ['1000h', 1000 * HOUR_MS],
      ['2147483648ms', 2 ** 31], // one past the largest 32-bit delay
      [1e13, 'forever'], // seconds, as Ollama reads a number: past the last date JavaScript can write
      [1e300, 'forever'],
      ['-1', 'forever'],
      [-5, 'forever'],
      ['0s', 0],
      [0, 0],
    ];
    for (const [keepAlive, expected] of cases) {
      const sent = Date.now();
      const response = await chat(service.url, keepAlive);
      await response.arrayBuffer();
      const label = `keep_alive ${JSON.stringify(keepAlive)}`;
      if (response.status !== 200) {
        failures.push(`${label}: ${response.status}`);
        continue;
      }
      if (expected === 0) {
        const unloadedMs = await within(
          async () => (await residents(service.url)).length === 0,
          2000,
        );
        figures[label] = unloadedMs === undefined ? 'still loaded' : 'unloaded at once';
        if (unloadedMs === undefined) failures.push(`${label}: not unloaded`);
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [resident] = await residents(service.url);
      if (!resident) {
        figures[label] = 'unloaded';
        failures.push(`${label}: unloaded at once`);
        continue;
      }
      const expiresInMs = Date.parse(resident.expires_at) - sent;
      figures[label] = `loaded until ${resident.expires_at}`;
      const ok =
        expected === 'forever'
          ? expiresInMs > 100 * 365 * 24 * HOUR_MS
          : Math.abs(expiresInMs - expected) < 60_000;
      if (!ok) failures.push(`${label}: expires ${resident.expires_at}`);
    }
  } finally {
    await service.stop();
  }
  return { name: 'keep_alive: durations past 24.8 days, forever and zero', figures, failures };
}
