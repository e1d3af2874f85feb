import { loadConfig } from 'hrserve';
import { describe, expect, it } from 'vitest';
import { buildConsoleApp } from './app.js';
import { consoleConfigSchema } from './config.js';
import { ServiceDirectory } from './services.js';
import { placeholderWebRoot } from './test/web-root.js';

/* What a hostile page in the same browser cannot make the console do. */

async function consoleApp(env: Record<string, string> = {}) {
  const config = consoleConfigSchema.parse({ LOG_LEVEL: 'silent', ...env });
  const { app } = await buildConsoleApp(config, {
    services: new ServiceDirectory([]),
    webRoot: placeholderWebRoot(),
  });
  return app;
}

describe('the request guard', () => {
  it('refuses a page reached under another name (DNS rebinding), unless CONSOLE_HOSTS names it', async () => {
    const app = await consoleApp();
    const rebound = await app.inject({
      url: '/console/fleet',
      headers: { host: 'attacker.example:2022' },
    });
    expect(rebound.statusCode).toBe(421);
    expect(rebound.json().error.message).toContain('CONSOLE_HOSTS');
    for (const host of ['127.0.0.1:2022', 'localhost:2022', '[::1]:2022', 'LOCALHOST']) {
      expect((await app.inject({ url: '/console/fleet', headers: { host } })).statusCode).toBe(200);
    }
    const named = await consoleApp({ CONSOLE_HOSTS: 'console.lan' });
    expect(
      (await named.inject({ url: '/', headers: { host: 'console.lan:2022' } })).statusCode,
    ).toBe(200);
    // Bound to every interface without CONSOLE_HOSTS: any name (API_KEYS protect it then).
    // Supervisors and scrapers reach /health and /metrics by any address.
    for (const url of ['/health', '/metrics']) {
      const probe = await app.inject({ url, headers: { host: '10.0.0.7:2022' } });
      expect(probe.statusCode).not.toBe(421);
    }
    const open = await consoleApp({ HOST: '0.0.0.0' });
    expect((await open.inject({ url: '/', headers: { host: 'box.lan' } })).statusCode).toBe(200);
  });

  it('refuses a state-changing request from another site; same-origin pages and scripts pass', async () => {
    const app = await consoleApp();
    const post = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/console/logout',
        headers: { host: '127.0.0.1:2022', ...headers },
      });
    expect((await post({ 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    // Another port of the same host is the same *site*: SameSite cookies would go along.
    expect((await post({ 'sec-fetch-site': 'same-site' })).statusCode).toBe(403);
    expect((await post({ origin: 'http://127.0.0.1:8080' })).statusCode).toBe(403);
    expect((await post({ origin: 'null' })).statusCode).toBe(403);
    expect(
      (await post({ 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:2022' })).statusCode,
    ).toBe(204);
    expect((await post({})).statusCode).toBe(204);
    // Behind a reverse proxy that rewrote Host: Fetch Metadata decides, or a known name.
    expect(
      (await post({ 'sec-fetch-site': 'same-origin', origin: 'https://console.example.com' }))
        .statusCode,
    ).toBe(204);
    expect((await post({ origin: 'https://console.example.com' })).statusCode).toBe(403);
    const named = await consoleApp({ CONSOLE_HOSTS: 'console.example.com' });
    const proxied = await named.inject({
      method: 'POST',
      url: '/console/logout',
      headers: { host: '127.0.0.1:2022', origin: 'https://console.example.com' },
    });
    expect(proxied.statusCode).toBe(204);
    // Reading is not guarded by origin (the browser keeps other sites from reading answers).
    const read = await app.inject({
      url: '/console/session',
      headers: { host: '127.0.0.1:2022', 'sec-fetch-site': 'cross-site' },
    });
    expect(read.statusCode).toBe(200);
  });

  it('limits wrong keys per address', async () => {
    const app = await consoleApp({ API_KEYS: 'right-key' });
    const login = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { host: '127.0.0.1:2022' },
        payload: { api_key: key },
      });
    for (let i = 0; i < 10; i++) expect((await login('wrong')).statusCode).toBe(401);
    const limited = await login('right-key');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('the settings', () => {
  it("refuse a services' key without a login of the console's own", () => {
    expect(() => loadConfig(consoleConfigSchema, { CONSOLE_SERVICE_API_KEY: 'k' })).toThrow(
      /API_KEYS=unset: required when CONSOLE_SERVICE_API_KEY is set/,
    );
    expect(
      loadConfig(consoleConfigSchema, { CONSOLE_SERVICE_API_KEY: 'k', API_KEYS: 'a' })
        .CONSOLE_SERVICE_API_KEY,
    ).toBe('k');
  });
});
