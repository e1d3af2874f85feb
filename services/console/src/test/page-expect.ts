import type { Locator } from 'playwright-core';
import { expect } from 'vitest';

/*
 * Playwright's web-first assertions (toHaveText…) come with @playwright/test, which these
 * tests do not use: playwright-core drives the browser, vitest asserts. These poll the page
 * the same way, each bounded in time.
 */

const DEFAULT_TIMEOUT = 15_000;

/** Waits until the element's text matches (a string: contains it). */
export async function expectText(
  locator: Locator,
  expected: string | RegExp,
  timeout = DEFAULT_TIMEOUT,
): Promise<void> {
  await expect
    .poll(async () => (await locator.textContent({ timeout })) ?? '', { timeout })
    .toMatch(expected);
}

export async function expectCount(
  locator: Locator,
  count: number,
  timeout = DEFAULT_TIMEOUT,
): Promise<void> {
  await expect.poll(() => locator.count(), { timeout }).toBe(count);
}

export async function expectAttribute(
  locator: Locator,
  name: string,
  value: string,
  timeout = DEFAULT_TIMEOUT,
): Promise<void> {
  await expect.poll(() => locator.getAttribute(name, { timeout }), { timeout }).toBe(value);
}

export async function expectVisible(locator: Locator, timeout = DEFAULT_TIMEOUT): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout });
}
