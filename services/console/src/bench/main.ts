/**
 * What a browser gets from the console, measured in Debian's Chromium (headless) against
 * real llmchat processes:
 *   - the JavaScript and CSS shipped, gzipped (what a first visit downloads);
 *   - the time to the first render: first contentful paint, and the page ready to chat
 *     (the model picker filled from the fleet), medians over fresh browser contexts;
 *   - the browser's main-thread time per streamed chunk of a 2,000-token answer (Chrome's
 *     own TaskDuration over the answer, divided by its tokens: each token is one SSE event).
 *
 *   ./pnpm --filter console bench [--rounds N] [--baseline <built web dir>] [--screenshots]
 *
 * --baseline serves another build of the page (a `dist/web` directory) from a second console
 * process and measures both, round by round, in one run. --screenshots also writes
 * docs/chat.png, docs/fleet.png and docs/login.png (the README's).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser, CDPSession } from 'playwright-core';
import { launchChromium, newPage } from '../test/browser.js';
import { spawnConsole, startFleet, type TestFleet } from '../test/fleet-processes.js';
import { startStoriesBatch } from '../test/stories-batch.js';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    screenshots: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function shippedSizes(): void {
  const assets = join(PACKAGE, 'dist', 'web', 'assets');
  const files = readdirSync(assets);
  let js = 0;
  let css = 0;
  console.log('\n== Shipped (dist/web, gzip -9)');
  for (const file of files) {
    const raw = readFileSync(join(assets, file));
    const gzipped = gzipSync(raw, { level: 9 }).length;
    if (file.endsWith('.js')) js += gzipped;
    if (file.endsWith('.css')) css += gzipped;
    console.log(
      `  ${file.padEnd(28)} ${kib(raw.length).padStart(10)} raw  ${kib(gzipped).padStart(9)} gzipped`,
    );
  }
  const html = gzipSync(readFileSync(join(PACKAGE, 'dist', 'web', 'index.html')), {
    level: 9,
  }).length;
  console.log(`  JavaScript ${kib(js)} + CSS ${kib(css)} + HTML ${kib(html)} gzipped`);
}

interface RenderFigures {
  /** The HTML received (the server's part). */
  html: number;
  /** The script ran (DOMContentLoaded: download, parse and run of the bundle). */
  loaded: number;
  /** First contentful paint: the shell on screen. */
  fcp: number;
  /** The model picker filled from the fleet: ready to chat. */
  ready: number;
}

/** One fresh context's first visit, in ms from navigation. */
async function firstRender(browser: Browser, url: string): Promise<RenderFigures> {
  const page = await newPage(browser);
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#model option[value*="/"]') !== null);
  const ready = await page.evaluate(() => performance.now());
  // The paint entry is written once the frame is presented. (A string: tsx would wrap a
  // function's inner functions in a helper the page does not have.)
  const timing = (await page.evaluate(`new Promise((resolve) => {
    const navigation = performance.getEntriesByType('navigation')[0];
    const figures = (fcp) => ({
      html: navigation ? navigation.responseEnd : NaN,
      loaded: navigation ? navigation.domContentLoadedEventEnd : NaN,
      fcp,
    });
    new PerformanceObserver((list) => {
      const entry = list.getEntriesByName('first-contentful-paint')[0];
      if (entry) resolve(figures(entry.startTime));
    }).observe({ type: 'paint', buffered: true });
    setTimeout(() => resolve(figures(NaN)), 2000);
  })`)) as Omit<RenderFigures, 'ready'>;
  await page.context().close();
  return { ...timing, ready };
}

/** Chrome's main-thread time so far, in seconds (Performance.getMetrics): all of it, and its parts. */
async function mainThread(cdp: CDPSession) {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as {
    metrics: Array<{ name: string; value: number }>;
  };
  const value = (name: string) =>
    metrics.find((metric) => metric.name === name)?.value ?? Number.NaN;
  return {
    task: value('TaskDuration'),
    script: value('ScriptDuration'),
    layout: value('LayoutDuration'),
  };
}

interface StreamFigures {
  /** Main-thread milliseconds per streamed chunk (one token, one SSE event). */
  perChunk: number;
  /** Share of the answer's wall time the main thread was busy. */
  busy: number;
  line: string;
}

/** A 2,000-token answer streamed into a fresh page (synth-30M: random weights never stop early). */
async function streamAnswer(browser: Browser, url: string, round: number): Promise<StreamFigures> {
  const page = await newPage(browser);
  await page.goto(url);
  await page.waitForFunction(
    () => document.querySelector('#model option[value*="synth-30M"]') !== null,
  );
  await page.getByLabel('Model').selectOption({ label: 'synth-30M' });
  await page.getByText('System prompt and parameters').click();
  await page.getByLabel('Max tokens').fill('2000');
  await page.getByLabel('Seed').fill(String(round));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.getByLabel('Message', { exact: true }).fill('Tell me a long story');
  const before = await mainThread(cdp);
  const started = Date.now();
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await page.locator('article.assistant[data-state="done"]').waitFor({ timeout: 180_000 });
  const wall = (Date.now() - started) / 1000;
  const after = await mainThread(cdp);
  const busy = after.task - before.task;
  const stats = (await page.locator('article.assistant .stats').textContent()) ?? '';
  const tokens = Number(/(\d+) tokens(?!\/)/.exec(stats)?.[1] ?? Number.NaN);
  await page.context().close();
  return {
    perChunk: (busy * 1000) / tokens,
    busy: busy / wall,
    line: `${tokens} chunks in ${wall.toFixed(1)} s, main thread ${(busy * 1000).toFixed(0)} ms (script ${((after.script - before.script) * 1000).toFixed(0)}, layout ${((after.layout - before.layout) * 1000).toFixed(0)})`,
  };
}

async function screenshots(browser: Browser, fleet: TestFleet): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(fleet.console.url);
  await page.waitForFunction(() => document.querySelector('#model option[value*="/"]') !== null);
  await page.getByText('System prompt and parameters').click();
  await page.getByLabel('Max tokens').fill('120');
  await page.getByText('System prompt and parameters').click();
  for (const question of [
    'Once upon a time, there was a little cat.',
    'What did the cat do next?',
  ]) {
    await page.getByLabel('Message', { exact: true }).fill(question);
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await page.waitForFunction(
      (count) => document.querySelectorAll('article.assistant[data-state="done"]').length === count,
      question.startsWith('Once') ? 1 : 2,
      { timeout: 60_000 },
    );
  }
  await page.screenshot({ path: join(PACKAGE, 'docs', 'chat.png') });
  // A batch running, so the fleet page shows one in progress.
  await startStoriesBatch(fleet.llmchat.url, 60, 400);
  await page.goto(`${fleet.console.url}/#/fleet`);
  const load = page.getByRole('button', { name: 'Load synth-30M', exact: true });
  await page.locator('tr[data-model="synth-30M"] button').waitFor();
  if (await load.count()) await load.click();
  await page.waitForFunction(
    () =>
      document.querySelector('tr[data-model="synth-30M"] .model-state')?.textContent === 'loaded',
    undefined,
    { timeout: 60_000 },
  );
  await page.waitForFunction(
    () => Number(document.querySelector('tr[data-batch] progress')?.getAttribute('value')) > 10,
    undefined,
    { timeout: 60_000 },
  );
  await page.screenshot({ path: join(PACKAGE, 'docs', 'fleet.png'), fullPage: true });
  await context.close();
  // The login, from a console with API keys.
  const keyed = await spawnConsole(fleet.portsFile, { API_KEYS: 'screenshot-key' });
  const login = await browser.newContext({ viewport: { width: 1280, height: 560 } });
  const loginPage = await login.newPage();
  await loginPage.goto(keyed.url);
  await loginPage.getByLabel('API key').waitFor();
  await loginPage.screenshot({ path: join(PACKAGE, 'docs', 'login.png') });
  await login.close();
  await keyed.stop();
  console.log('\n== Screenshots: docs/chat.png, docs/fleet.png, docs/login.png');
}

shippedSizes();
const [fleet, browser] = await Promise.all([startFleet(), launchChromium()]);
const baseline = args.baseline
  ? await spawnConsole(fleet.portsFile, { CONSOLE_WEB_ROOT: args.baseline })
  : undefined;
const variants = [
  { name: 'this build', url: fleet.console.url },
  ...(baseline ? [{ name: 'baseline', url: baseline.url }] : []),
];
try {
  const renders = new Map(variants.map((variant) => [variant.name, [] as RenderFigures[]]));
  // Interleaved: each round measures every variant, so drift over the run hits all alike.
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants)
      renders.get(variant.name)?.push(await firstRender(browser, variant.url));
  }
  console.log(
    `\n== First render (${rounds} fresh contexts each, cache empty; ms from navigation, medians)`,
  );
  console.log('              HTML   script ran   first paint   ready to chat');
  for (const variant of variants) {
    const figures = renders.get(variant.name) ?? [];
    const at = (key: keyof RenderFigures) =>
      median(figures.map((figure) => figure[key]))
        .toFixed(0)
        .padStart(6);
    console.log(
      `  ${variant.name.padEnd(11)} ${at('html')}   ${at('loaded')}       ${at('fcp')}         ${at('ready')}`,
    );
  }

  const streams = new Map(variants.map((variant) => [variant.name, [] as StreamFigures[]]));
  const streamRounds = Math.min(rounds, 3);
  console.log(
    `\n== Streaming a 2,000-token answer (synth-30M, max tokens 2000; ${streamRounds} rounds each)`,
  );
  for (let round = 0; round < streamRounds; round++) {
    for (const variant of variants) {
      const figures = await streamAnswer(browser, variant.url, round);
      streams.get(variant.name)?.push(figures);
      console.log(`  ${variant.name.padEnd(11)} round ${round + 1}: ${figures.line}`);
    }
  }
  for (const variant of variants) {
    const figures = streams.get(variant.name) ?? [];
    console.log(
      `  ${variant.name.padEnd(11)} main-thread time per chunk ${median(figures.map((f) => f.perChunk)).toFixed(2)} ms, busy ${(median(figures.map((f) => f.busy)) * 100).toFixed(0)} % of the answer's time (medians)`,
    );
  }
  if (args.screenshots) await screenshots(browser, fleet);
} finally {
  await browser.close();
  await baseline?.stop();
  await fleet.stop();
}
