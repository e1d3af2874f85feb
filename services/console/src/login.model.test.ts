import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newPage, seriousViolations } from './test/browser.js';
import { startFleet, type TestFleet } from './test/fleet-processes.js';
import { expectCount, expectText, expectVisible } from './test/page-expect.js';

/*
 * With API_KEYS set (the console's and llmchat's), nothing works without logging in: no
 * page shows data, no proxied call reaches a service. The key is asked once; the browser
 * then holds only an httpOnly, SameSite=Strict session cookie.
 */

const KEY = 'console-test-key-0123456789';
let fleet: TestFleet;
let browser: Browser;

beforeAll(async () => {
  [fleet, browser] = await Promise.all([
    startFleet({ apiKeys: KEY, embed: false }),
    launchChromium(),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
});

describe('with API keys', () => {
  it('asks for the key before any page, and no console or proxied call works without it', async () => {
    const page = await newPage(browser);
    for (const path of ['/', '/#/fleet', '/#/chat/llmchat/conv_x']) {
      await page.goto(`${fleet.console.url}${path}`);
      await expectVisible(page.getByLabel('API key'));
      await expectCount(page.locator('section.service'), 0);
      await expectCount(page.getByLabel('Message', { exact: true }), 0);
    }
    expect(await seriousViolations(page)).toEqual([]);

    // The same calls the page makes, from the page: refused.
    const statuses = await page.evaluate(async () =>
      Promise.all(
        [
          '/console/fleet',
          '/console/services/llmchat/v1/models',
          '/console/services/llmchat/v1/conversations',
          '/console/services/llmchat/health',
        ].map(async (path) => (await fetch(path)).status),
      ),
    );
    expect(statuses).toEqual([401, 401, 401, 401]);
    const posted = await page.evaluate(async () => {
      const response = await fetch('/console/services/llmchat/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'x' }] }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { error: { code: string } },
      };
    });
    expect(posted.status).toBe(401);
    expect(posted.body.error.code).toBe('invalid_api_key');

    // A wrong key is refused, saying so.
    await page.getByLabel('API key').fill('not-the-key');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expectText(page.getByRole('alert'), "not one of the console's API keys");
    await page.context().close();
  });

  it('logs in once: the session cookie is httpOnly and SameSite=Strict, and everything works', async () => {
    const page = await newPage(browser);
    await page.goto(`${fleet.console.url}/#/fleet`);
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expectText(
      page.locator('section.service[data-service="llmchat"] [data-testid="state"]'),
      'ok',
    );
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'hrserve_console', httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).not.toContain(KEY);
    expect(await page.evaluate(() => document.cookie)).toBe('');

    // Chat through the proxy: the console sends the services' key; the browser never has it.
    await page.goto(`${fleet.console.url}/#/`);
    await page.getByText('System prompt and parameters').click();
    await page.getByLabel('Max tokens').fill('8');
    await page.getByLabel('Message', { exact: true }).fill('Hello');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await page.locator('article.assistant[data-state="done"]').waitFor({ timeout: 30_000 });

    // A reload keeps the session; logging out ends it, for this cookie too.
    await page.reload();
    await expectVisible(page.getByLabel('Message', { exact: true }));
    await page.getByRole('button', { name: 'Log out' }).click();
    await expectVisible(page.getByLabel('API key'));
    const status = await page.evaluate(async () => (await fetch('/console/fleet')).status);
    expect(status).toBe(401);
    await page.context().close();
  });

  it('refuses a made-up session cookie; the key itself still works for scripts', async () => {
    const response = await fetch(`${fleet.console.url}/console/fleet`, {
      headers: { cookie: 'hrserve_console=made-up' },
    });
    expect(response.status).toBe(401);
    // Scripts and tools may still use the key itself, as with every service.
    const withKey = await fetch(`${fleet.console.url}/console/fleet`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(withKey.status).toBe(200);
  });
});
