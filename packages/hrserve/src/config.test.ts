import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, ConfigError, envDuration, loadConfig, parseDuration } from './config.js';

const schema = baseConfigSchema({ name: 'llmchat', port: 2020 });

describe('loadConfig', () => {
  it('fills every default from an empty environment', () => {
    const config = loadConfig(schema, {});
    expect(config).toMatchObject({
      SERVICE_NAME: 'llmchat',
      PORT: 2020,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      API_KEYS: [],
      OTEL_SDK_DISABLED: false,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      DRAIN_TIMEOUT_MS: 30000,
    });
  });

  it('parses values and treats empty strings as unset', () => {
    const config = loadConfig(schema, {
      PORT: '8080',
      HOST: '',
      API_KEYS: ' a , b,,',
      OTEL_SDK_DISABLED: 'TRUE',
      BODY_LIMIT_BYTES: '1024',
    });
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.API_KEYS).toEqual(['a', 'b']);
    expect(config.OTEL_SDK_DISABLED).toBe(true);
    expect(config.BODY_LIMIT_BYTES).toBe(1024);
  });

  it('lists every problem at once, each with the value given and how to fix it', () => {
    let caught: unknown;
    try {
      loadConfig(schema, {
        PORT: '70000',
        LOG_LEVEL: 'chatty',
        OTEL_SDK_DISABLED: 'maybe',
        DRAIN_TIMEOUT_MS: '-1',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.find((problem) => problem.startsWith('PORT="70000"'))).toContain(
      'TCP port to listen on',
    );
    expect(problems.find((problem) => problem.startsWith('LOG_LEVEL="chatty"'))).toContain(
      'fatal, error, warn',
    );
    expect(problems.find((problem) => problem.startsWith('OTEL_SDK_DISABLED="maybe"'))).toContain(
      'true or false',
    );
    expect(problems.find((problem) => problem.startsWith('DRAIN_TIMEOUT_MS="-1"'))).toContain(
      'above 0',
    );
  });

  it('takes LOG_FORMAT auto (the default), pretty or json, and says which when it is neither', () => {
    expect(loadConfig(schema, {}).LOG_FORMAT).toBe('auto');
    expect(loadConfig(schema, { LOG_FORMAT: '' }).LOG_FORMAT).toBe('auto');
    expect(loadConfig(schema, { LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(loadConfig(schema, { LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(() => loadConfig(schema, { LOG_FORMAT: 'text' })).toThrow(
      /LOG_FORMAT="text": .*auto \(default: readable lines on a terminal, JSON lines otherwise\), pretty or json/,
    );
  });

  it('is extended by services with their own described fields', () => {
    const extended = schema.extend({
      LLMCHAT_MODEL: z.string().min(1).describe('Path or hf: URI of the GGUF model to serve.'),
    });
    expect(() => loadConfig(extended, {})).toThrow(/LLMCHAT_MODEL=unset: .*Path or hf: URI/);
    expect(loadConfig(extended, { LLMCHAT_MODEL: 'm.gguf' }).LLMCHAT_MODEL).toBe('m.gguf');
  });
});

describe('durations from the environment', () => {
  it('reads days, hours, minutes, seconds and ms, and 0', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(' 250ms ')).toBe(250);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses what is not one, naming the forms it takes', () => {
    for (const text of ['30', '-1d', '1.5h', 'forever', ''])
      expect(parseDuration(text)).toBeUndefined();
    const schema = z.object({ TTL: envDuration('How long.', '30d') });
    expect(loadConfig(schema, {}).TTL).toBe(30 * 86_400_000);
    expect(() => loadConfig(schema, { TTL: 'a week' })).toThrow(
      /TTL.*expected a duration like 30d, 12h, 90m, 30s, or 0/,
    );
  });
});
