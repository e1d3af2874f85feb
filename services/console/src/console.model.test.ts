import { readFile } from 'node:fs/promises';
import { OtlpReceiver } from '@hrserve/test-support';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newPage, seriousViolations } from './test/browser.js';
import { eventually, healthOf, startFleet, type TestFleet } from './test/fleet-processes.js';
import { expectAttribute, expectCount, expectText, expectVisible } from './test/page-expect.js';
import { startStoriesBatch } from './test/stories-batch.js';

/*
 * The console in a real browser (Debian's Chromium, driven by playwright-core) in front of
 * real llmchat and embed processes: what a person using it sees and does.
 */

let fleet: TestFleet;
let browser: Browser;
let llmchat: OpenAI;
/** Where llmchat sends its traces; the console links each answer to one. */
let traces: OtlpReceiver;
const TRACE_UI = 'http://127.0.0.1:16686/trace/{trace_id}';

beforeAll(async () => {
  traces = await OtlpReceiver.start();
  const traced = { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: traces.endpoint };
  [fleet, browser] = await Promise.all([
    startFleet({ llmchatEnv: traced, consoleEnv: { ...traced, CONSOLE_TRACE_URL: TRACE_UI } }),
    launchChromium(),
  ]);
  llmchat = new OpenAI({ baseURL: `${fleet.llmchat.url}/v1`, apiKey: 'unused' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await traces?.stop();
});

const answers = (page: Page) => page.locator('article.assistant');

/** Opens the chat with a model picked and the answer length capped (the parameters panel). */
async function openChat(options: { model?: string; maxTokens?: number } = {}): Promise<Page> {
  const page = await newPage(browser);
  await page.goto(fleet.console.url);
  const picker = page.getByLabel('Model');
  await expect
    .poll(() => picker.locator('option').allTextContents(), { timeout: 15_000 })
    .toContain('stories260K');
  if (options.model) await picker.selectOption({ label: options.model });
  if (options.maxTokens !== undefined) {
    await page.getByText('System prompt and parameters').click();
    await page.getByLabel('Max tokens').fill(String(options.maxTokens));
  }
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

/** The open conversation's id, from the page's address. */
function conversationOf(page: Page): string {
  const id = /#\/chat\/llmchat\/(conv_\w+)/.exec(page.url())?.[1];
  if (!id) throw new Error(`no conversation in ${page.url()}`);
  return id;
}

async function storedTurns(conversation: string) {
  const items = await llmchat.conversations.items.list(conversation, { order: 'asc' });
  return items.data.flatMap((item) =>
    item.type === 'message'
      ? [
          {
            id: item.id,
            role: item.role,
            text: item.content.map((part) => ('text' in part ? part.text : '')).join(''),
          },
        ]
      : [],
  );
}

describe('chat', () => {
  it('streams an answer into the page as it is generated, keeps it in the conversation, and links its trace', async () => {
    // stories260K writes 300 tokens in under 0.2 s, fewer than the page's 50 ms repaints could
    // show growing; 1,500 take about a second (it does not stop early: its answers run to the cap).
    const page = await openChat({ maxTokens: 1500 });
    // Every length the answer's text had on screen, as the browser painted it.
    await page.evaluate(() => {
      const lengths: number[] = [];
      (window as unknown as { lengths: number[] }).lengths = lengths;
      new MutationObserver(() => {
        const text = document.querySelector('article.assistant .content')?.textContent ?? '';
        if (text.length !== lengths.at(-1)) lengths.push(text.length);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await send(page, 'Once upon a time');
    await expectText(page.locator('article.user').first(), /Once upon a time/);
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    const lengths = await page.evaluate(() => (window as unknown as { lengths: number[] }).lengths);
    // Incremental: the text grew several times before the whole answer was there. (Not
    // strictly: on a first visit the answer may show as plain text until the Markdown
    // renderer has arrived, and Markdown shows fewer characters.)
    const growths = lengths.filter((length, i) => i > 0 && length > (lengths[i - 1] ?? 0));
    expect(growths.length).toBeGreaterThanOrEqual(3);
    expect(lengths.filter((length) => length > 0).length).toBeGreaterThanOrEqual(3);
    const stats = await answers(page).locator('.stats').textContent();
    expect(stats).toMatch(/TTFT \d+ ms · [\d.]+ tokens\/s · \d+ tokens/);
    // Its trace link opens the trace of this very answer: one trace from the console's proxy
    // through llmchat's server span.
    const link = await answers(page).locator('.stats a', { hasText: 'trace' }).getAttribute('href');
    const traceId = /^http:\/\/127\.0\.0\.1:16686\/trace\/([0-9a-f]{32})$/.exec(link ?? '')?.[1];
    expect(traceId, `trace link ${link}`).toBeDefined();
    const servers = (service: string) =>
      traces.spans.filter(
        (span) =>
          span.traceId === traceId && span.kind === 2 && span.resource['service.name'] === service,
      );
    // Spans leave in batches every few seconds: a generous wait for a loaded machine.
    await traces.waitFor(
      () => servers('console-api').length > 0 && servers('llmchat-api').length > 0,
      30_000,
    );
    expect(servers('llmchat-api').map((span) => span.name)).toContain('POST /v1/responses');

    // The conversation is the server's: its items hold both turns.
    const conversation = conversationOf(page);
    const turns = await storedTurns(conversation);
    expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant']);
    // The page shows it as Markdown: the same letters, some punctuation read as markup.
    const letters = (text: string | null | undefined) => (text ?? '').replace(/[^a-z]/gi, '');
    expect(letters(turns[1]?.text)).not.toBe('');
    expect(letters(await answers(page).locator('.content').textContent())).toBe(
      letters(turns[1]?.text),
    );
    await page.context().close();
  });

  it('renders Markdown with highlighted code, and never the HTML a model writes', async () => {
    const page = await openChat();
    // The page renders what the conversation holds: an answer with code, a link and HTML.
    const conversation = await llmchat.conversations.create({
      metadata: { title: 'markdown' },
      items: [
        { type: 'message', role: 'user', content: 'show me' },
        {
          type: 'message',
          role: 'assistant',
          content:
            '# Title\n\n```python\ndef f():\n    return 1\n```\n\n<img src=x onerror="window.pwned=1"> [ok](https://example.com) [bad](javascript:alert(1))',
        },
      ],
    });
    await page.goto(`${fleet.console.url}/#/chat/llmchat/${conversation.id}`);
    const answer = answers(page).locator('.content');
    await expect.poll(() => answer.locator('pre code .hljs-keyword').count()).toBeGreaterThan(0);
    await expectText(answer.locator('h1'), 'Title');
    expect(await answer.locator('img').count()).toBe(0);
    expect(await answer.textContent()).toContain('<img src=x onerror="window.pwned=1">');
    expect(await answer.locator('a[href="https://example.com"]').count()).toBe(1);
    expect(await answer.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBe(
      undefined,
    );
    await page.context().close();
  });

  it('stops mid-answer (Stop, then Esc): llmchat frees the sequence, the answer so far is kept', async () => {
    // synth-30M (random weights) writes until its context is full: long enough to stop.
    const page = await openChat({ model: 'synth-30M' });
    for (const how of ['button', 'escape'] as const) {
      await send(page, `A long story, stopped with the ${how}`);
      // Stopped once text is on screen and llmchat is generating.
      await expect
        .poll(() => answers(page).last().locator('.content').textContent(), { timeout: 30_000 })
        .not.toBe('');
      expect((await healthOf(fleet.llmchat)).queue.running).toBe(1);
      if (how === 'button') await page.getByRole('button', { name: 'Stop', exact: true }).click();
      else await page.keyboard.press('Escape');
      await expectText(
        answers(page).last().locator('.stats'),
        'stopped: the answer so far is kept',
      );
      await eventually(
        'llmchat running 0',
        async () => (await healthOf(fleet.llmchat)).queue.running === 0,
      );
    }
    // Both questions and what was answered of them are in the conversation, as on screen.
    const turns = await storedTurns(conversationOf(page));
    expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(turns[2]?.text).toBe('A long story, stopped with the escape');
    const shown = await answers(page).last().locator('.content').textContent();
    const letters = (text: string | null | undefined) => (text ?? '').replace(/[^a-z]/gi, '');
    expect(letters(turns[3]?.text)).toBe(letters(shown));
    await page.context().close();
  });

  it('closing the tab mid-answer cancels the generation upstream', async () => {
    const page = await openChat({ model: 'synth-30M' });
    await send(page, 'Once upon a time there was a long story');
    await expect
      .poll(() => answers(page).last().locator('.content').textContent(), { timeout: 30_000 })
      .not.toBe('');
    expect((await healthOf(fleet.llmchat)).queue.running).toBe(1);
    await page.context().close();
    await eventually(
      'llmchat running 0 after the tab closed',
      async () => (await healthOf(fleet.llmchat)).queue.running === 0,
    );
  });

  it('switches model: the next answer comes from the picked model, loaded on demand', async () => {
    // synth-30M unloaded first: the page says it loads while the first answer waits.
    await fetch(`${fleet.llmchat.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'synth-30M', messages: [], keep_alive: 0 }),
    });
    const page = await openChat({ maxTokens: 8 });
    await send(page, 'Hello');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    const conversation = conversationOf(page);
    await page.evaluate(() => {
      const notes: string[] = [];
      (window as unknown as { notes: string[] }).notes = notes;
      new MutationObserver(() => {
        for (const note of document.querySelectorAll('article.assistant .note')) {
          notes.push(note.textContent ?? '');
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByLabel('Model').selectOption({ label: 'synth-30M' });
    await send(page, 'And now?');
    await expectCount(answers(page), 2);
    await answers(page)
      .nth(1)
      .and(page.locator('[data-state="done"]'))
      .waitFor({ timeout: 60_000 });
    // Same conversation, its model recorded, and the answer made by synth-30M.
    expect(conversationOf(page)).toBe(conversation);
    expect((await llmchat.conversations.retrieve(conversation)).metadata).toMatchObject({
      model: 'synth-30M',
    });
    const responses = await fetch(`${fleet.llmchat.url}/api/ps`).then(
      (response) => response.json() as Promise<{ models: Array<{ name: string }> }>,
    );
    expect(responses.models.map((model) => model.name)).toContain('synth-30M');
    expect(await page.evaluate(() => (window as unknown as { notes: string[] }).notes)).toContain(
      'Loading synth-30M…',
    );
    await page.context().close();
  });

  it('finds the conversation after a reload and from another browser, and continues it', async () => {
    const page = await openChat({ maxTokens: 8 });
    await send(page, 'A story about a cat');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    const address = page.url();
    await page.reload();
    await expectText(page.locator('article.user'), /A story about a cat/);
    await expectVisible(page.getByRole('link', { name: 'A story about a cat' }));
    // Another browser (a new context: no storage shared) continues it.
    const other = await newPage(browser);
    await other.goto(address);
    await expectText(other.locator('article.user'), /A story about a cat/);
    await send(other, 'Go on');
    await expectCount(other.locator('article.assistant[data-state="done"]'), 2, 30_000);
    expect((await storedTurns(conversationOf(other))).length).toBe(4);
    await Promise.all([page.context().close(), other.context().close()]);
  });

  it('edits and resends a message, and regenerates the last answer', async () => {
    const page = await openChat({ maxTokens: 8 });
    await send(page, 'first question');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    const conversation = conversationOf(page);

    const before = await storedTurns(conversation);
    await page.getByRole('button', { name: 'Regenerate' }).click();
    // The answer is replaced: the question stays, a new answer follows it.
    await expect
      .poll(
        async () => {
          const now = await storedTurns(conversation);
          return now.length === 2 && now[1]?.id !== before[1]?.id;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    let turns = await storedTurns(conversation);
    expect(turns.map((turn) => [turn.role, turn.text.slice(0, 14)])).toEqual([
      ['user', 'first question'],
      ['assistant', expect.any(String)],
    ]);
    await expectVisible(page.getByRole('button', { name: 'Regenerate' }), 30_000);

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Edit the message').fill('second question');
    await page.getByRole('button', { name: 'Save and resend' }).click();
    await expectText(page.locator('article.user'), /second question/);
    await expect
      .poll(async () => (await storedTurns(conversation)).map((turn) => turn.text.slice(0, 15)), {
        timeout: 30_000,
      })
      .toEqual(['second question', expect.any(String)]);
    turns = await storedTurns(conversation);
    expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant']);
    await page.context().close();
  });

  it('renames, searches, exports, imports and deletes conversations', async () => {
    const page = await openChat({ maxTokens: 8 });
    await send(page, 'a conversation to keep');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    const sidebar = page.getByRole('complementary', { name: 'Conversations' });

    await sidebar.getByRole('button', { name: 'Rename a conversation to keep' }).click();
    await sidebar.getByLabel('New title').fill('Kept for later');
    await sidebar.getByRole('button', { name: 'Save' }).click();
    await expectVisible(sidebar.getByRole('link', { name: 'Kept for later' }));
    expect((await llmchat.conversations.retrieve(conversationOf(page))).metadata).toMatchObject({
      title: 'Kept for later',
    });

    await sidebar.getByLabel('Search conversations').fill('kept for');
    await expectCount(sidebar.getByRole('link'), 1);
    await sidebar.getByLabel('Search conversations').fill('');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export' }).click(),
    ]);
    const file = await download.path();
    const exported = JSON.parse(await readFile(file, 'utf8'));
    expect(exported).toMatchObject({
      format: 'hrserve-console-conversation',
      title: 'Kept for later',
      messages: [{ role: 'user', content: 'a conversation to keep' }, { role: 'assistant' }],
    });

    await sidebar.locator('input[type=file]').setInputFiles({
      name: 'import.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ ...exported, title: 'Imported copy' })),
    });
    await expectText(page.locator('h1'), 'Imported copy');
    expect((await storedTurns(conversationOf(page))).map((turn) => turn.text)).toEqual(
      exported.messages.map((message: { content: string }) => message.content),
    );

    // A file that is not an export says so; nothing is created.
    await sidebar.locator('input[type=file]').setInputFiles({
      name: 'notes.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"hello":1}'),
    });
    await expectText(page.getByRole('alert'), 'Not a conversation exported');

    await sidebar.getByRole('button', { name: 'Delete Imported copy' }).click();
    await sidebar.getByRole('button', { name: 'Really delete Imported copy' }).click();
    await expectCount(sidebar.getByRole('link', { name: 'Imported copy' }), 0);
    await expectText(page.locator('h1'), 'New conversation');
    await page.context().close();
  });

  it('sends on Enter and starts a new line on Shift+Enter', async () => {
    const page = await openChat({ maxTokens: 8 });
    const message = page.getByLabel('Message', { exact: true });
    await message.fill('first line');
    await message.press('Shift+Enter');
    await message.pressSequentially('second line');
    expect(await message.inputValue()).toBe('first line\nsecond line');
    await expectCount(page.locator('article'), 0);
    await message.press('Enter');
    await expectText(page.locator('article.user'), 'first line\nsecond line');
    expect(await message.inputValue()).toBe('');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    await page.context().close();
  });

  it('puts the earlier turns back when an edited question fails', async () => {
    const page = await openChat({ maxTokens: 8 });
    await send(page, 'a question that stays');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    const conversation = conversationOf(page);
    const before = (await storedTurns(conversation)).map((turn) => [turn.role, turn.text]);
    await page.getByRole('button', { name: 'Edit' }).click();
    // Longer than stories260K's context: llmchat refuses it.
    await page.getByLabel('Edit the message').fill('once upon a time '.repeat(1_000));
    await page.getByRole('button', { name: 'Save and resend' }).click();
    await expectText(page.getByRole('alert'), 'The earlier turns are back as they were');
    expect((await storedTurns(conversation)).map((turn) => [turn.role, turn.text])).toEqual(before);
    await expectText(page.locator('article.user'), 'a question that stays');
    await page.context().close();
  });

  it("says what is wrong: parameters before sending, a service's refusal in its own words", async () => {
    const page = await openChat();
    await page.getByText('System prompt and parameters').click();
    await page.getByLabel('Temperature').fill('5');
    await send(page, 'Hello');
    await expectText(page.getByRole('alert'), 'Temperature goes from 0 to 2');
    await expectCount(page.locator('article'), 0);
    await page.getByLabel('Temperature').fill('');

    // Longer than stories260K's context (2048 tokens): llmchat's 400, shown on the answer.
    await send(page, 'once upon a time '.repeat(1_000));
    await expectAttribute(answers(page).last(), 'data-state', 'failed');
    await expectText(answers(page).last().getByRole('alert'), /context/);
    await expectVisible(page.getByRole('button', { name: 'Retry', exact: true }));
    await page.context().close();
  });
});

describe('fleet', () => {
  it('shows both services, and loads and unloads a model', async () => {
    const page = await newPage(browser);
    await page.goto(`${fleet.console.url}/#/fleet`);
    const chat = page.locator('section.service[data-service="llmchat"]');
    const embed = page.locator('section.service[data-service="embed"]');
    await expectText(chat.getByTestId('state'), 'ok');
    await expectText(embed.getByTestId('state'), 'ok');
    await expectText(embed.locator('tr[data-model="stories260K"] .model-state'), 'loaded');
    await expectText(chat.getByTestId('queue'), /^0 \/ 0 \/ \d+$/);

    const synth = chat.locator('tr[data-model="synth-30M"]');
    if ((await synth.locator('.model-state').textContent()) === 'loaded') {
      await synth.getByRole('button', { name: 'Unload synth-30M', exact: true }).click();
      await expectText(synth.locator('.model-state'), 'not loaded', 15_000);
    }
    await synth.getByRole('button', { name: 'Load synth-30M', exact: true }).click();
    await expectText(synth.locator('.model-state'), 'loaded', 30_000);
    await expectText(synth.locator('td').nth(2), /\d+ (MiB|GiB)/);
    await expectText(synth.locator('td').nth(3), /unloads in|kept loaded/);
    expect((await healthOf(fleet.llmchat)).models.map((model) => model.id)).toContain('synth-30M');

    await synth.getByRole('button', { name: 'Unload synth-30M', exact: true }).click();
    await expectText(synth.locator('.model-state'), 'not loaded', 15_000);
    expect((await healthOf(fleet.llmchat)).models.map((model) => model.id)).not.toContain(
      'synth-30M',
    );
    await page.context().close();
  });

  it("shows a batch's progress, offers its output, and cancels another", async () => {
    const start = (count: number, maxTokens: number) =>
      startStoriesBatch(fleet.llmchat.url, count, maxTokens);
    const page = await newPage(browser);
    await page.goto(`${fleet.console.url}/#/fleet`);
    const chat = page.locator('section.service[data-service="llmchat"]');

    const small = await start(6, 16);
    const row = chat.locator(`tr[data-batch="${small.id}"]`);
    await expectText(row, 'completed', 60_000);
    await expectText(row.locator('.progress-text'), '6/6');
    const output = row.getByRole('link', { name: 'output' });
    const href = await output.getAttribute('href');
    const content = await page.evaluate(async (url) => (await fetch(url as string)).text(), href);
    expect(content.trim().split('\n')).toHaveLength(6);

    const large = await start(200, 400);
    const running = chat.locator(`tr[data-batch="${large.id}"]`);
    await expectText(running, 'in_progress', 30_000);
    await expect
      .poll(async () => Number((await running.locator('progress').getAttribute('value')) ?? 0), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    expect(await running.locator('progress').getAttribute('max')).toBe('200');
    await running.getByRole('button', { name: `Cancel ${large.id}` }).click();
    await running.getByRole('button', { name: `Really cancel ${large.id}` }).click();
    await expectText(running, /cancelled/, 30_000);
    await page.context().close();
  });
});

describe('accessibility (axe-core)', () => {
  it('has no serious or critical violations on the chat and fleet pages', async () => {
    const page = await openChat({ maxTokens: 8 });
    await send(page, 'Hello');
    await answers(page).and(page.locator('[data-state="done"]')).waitFor({ timeout: 30_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${fleet.console.url}/#/fleet`);
    await expectCount(page.locator('section.service'), 2);
    await expectText(
      page.locator('section.service[data-service="llmchat"] [data-testid="state"]'),
      'ok',
    );
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });
});
