import { LlamaLogLevel } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { llamaLogBridge } from './llama.js';

describe('llamaLogBridge', () => {
  it('logs llama.cpp errors as errors, the rest as warnings, trimmed, blank lines dropped', () => {
    const lines: Array<[string, object, string]> = [];
    const bridge = llamaLogBridge({
      warn: (fields, message) => lines.push(['warn', fields, message]),
      error: (fields, message) => lines.push(['error', fields, message]),
    });
    bridge(LlamaLogLevel.warn, 'load: bad special token\n');
    bridge(LlamaLogLevel.error, 'failed to decode');
    bridge(LlamaLogLevel.fatal, 'abort');
    bridge(LlamaLogLevel.warn, '  \n');
    expect(lines).toEqual([
      ['warn', { llama: 'load: bad special token' }, 'llama.cpp'],
      ['error', { llama: 'failed to decode' }, 'llama.cpp'],
      ['error', { llama: 'abort' }, 'llama.cpp'],
    ]);
  });
});
