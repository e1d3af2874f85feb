import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore, type StoreOptions } from '@hrserve/store';
import { trace } from '@opentelemetry/api';
import {
  ApiError,
  baseConfigSchema,
  buildApp,
  errorCatalogue,
  type FastifyInstance,
  loadConfig,
  parseRequest,
} from 'hrserve';
import { z } from 'zod';
import { BatchApi, type BatchApiOptions } from '../batch-api.js';

const echoSchema = z.strictObject({
  model: z.string().min(1),
  text: z.string(),
  /** Milliseconds the answer takes (stopped when the request is). */
  delay_ms: z.number().int().min(0).max(60_000).optional(),
});

export interface EchoService {
  app: FastifyInstance;
  batches: BatchApi;
  url: string;
  filesDir: string;
  /** Requests the echo route has begun, by text. */
  begun: string[];
  close(): Promise<void>;
}

/**
 * A service on the runtime whose one endpoint, POST /v1/echo, answers its text back (after
 * `delay_ms`), saying who served it and at what priority; model "missing" is a 404. It
 * runs batches for /v1/echo on a real store.
 */
export async function startEchoService(
  options: {
    name?: string;
    store?: Pick<StoreOptions, 'dataDir' | 'databaseUrl'>;
    filesDir?: string;
    env?: Record<string, string>;
    batch?: Partial<BatchApiOptions>;
  } = {},
): Promise<EchoService> {
  const name = options.name ?? 'echo';
  const dataDir = options.store?.dataDir ?? (await mkdtemp(join(tmpdir(), 'hrserve-batches-')));
  const config = loadConfig(baseConfigSchema({ name: 'echo', port: 2999 }), {
    OTEL_SDK_DISABLED: 'true',
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const app = await buildApp({ config, version: '0.0.0' });
  const begun: string[] = [];
  app.post('/v1/echo', async (request) => {
    const body = parseRequest(echoSchema, request.body);
    if (body.model === 'missing') {
      throw new ApiError(errorCatalogue.notFound, `No model named ${body.model}.`, {
        param: 'model',
      });
    }
    begun.push(body.text);
    const priority = request.workPriority;
    if (body.delay_ms) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, body.delay_ms);
        request.raw.once('close', () => {
          clearTimeout(timer);
          reject(new Error('client left'));
        });
      });
    }
    return {
      object: 'echo',
      model: body.model,
      text: body.text,
      served_by: name,
      priority,
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
  });
  const state = new StateStore({ service: 'echo', ...(options.store ?? {}), dataDir }, app.log);
  void state.start();
  const filesDir = options.filesDir ?? join(dataDir, 'files');
  const batches = await BatchApi.register(app, {
    service: 'echo',
    state,
    filesDir,
    endpoints: { '/v1/echo': (body) => void parseRequest(echoSchema, body) },
    limits: {
      maxFileBytes: 64 * 1024,
      maxLines: 100,
      bytesSetting: 'ECHO_MAX_FILE_BYTES',
      linesSetting: 'ECHO_MAX_LINES',
    },
    concurrency: 2,
    pollMs: 50,
    tracer: trace.getTracer('echo'),
    ...(config.API_KEYS[0]
      ? { lineHeaders: { authorization: `Bearer ${config.API_KEYS[0]}` } }
      : {}),
    ...options.batch,
  });
  app.addHook('onClose', async () => {
    await batches.close();
    await state.close();
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await batches.start();
  return { app, batches, url, filesDir, begun, close: () => app.close() };
}
