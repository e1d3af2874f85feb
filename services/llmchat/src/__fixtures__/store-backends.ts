import { type PostgresServer, startPostgres } from '@hrserve/test-support/postgres';
import type OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { startLlmchat, type TestServer } from './llmchat-server.js';

let postgres: Promise<PostgresServer> | undefined;

export interface StoreBackend {
  name: string;
  /** The environment that points llmchat at this store. */
  env(): Promise<Record<string, string>>;
}

/**
 * The two stores a suite runs against: SQLite (the default, in the test's data directory)
 * and PostgreSQL (Debian's, started once per test file, a new database per suite). Call
 * `stopPostgres` in the file's afterAll.
 */
export const STORE_BACKENDS: StoreBackend[] = [
  { name: 'SQLite', env: async (): Promise<Record<string, string>> => ({}) },
  {
    name: 'PostgreSQL',
    env: async (): Promise<Record<string, string>> => {
      postgres ??= startPostgres();
      return { DATABASE_URL: await (await postgres).createDatabase() };
    },
  },
];

export async function stopPostgres(): Promise<void> {
  const started = postgres;
  postgres = undefined;
  await (await started)?.dispose();
}

/** The llmchat of a describe block: its server and an openai client for it. */
export interface LlmchatOnStore {
  readonly server: TestServer;
  readonly openai: OpenAI;
}

/** Starts llmchat on `backend` before the enclosing describe block's tests and closes it after. */
export function llmchatOn(backend: StoreBackend): LlmchatOnStore {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startLlmchat(await backend.env());
  });
  afterAll(() => server?.close());
  const started = () => {
    if (!server) throw new Error('llmchat is not started yet: use it inside a test');
    return server;
  };
  return {
    get server() {
      return started();
    },
    get openai() {
      return started().openai;
    },
  };
}
