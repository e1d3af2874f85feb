import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSupportedNode, SUPPORTED_NODE } from './node-version.js';

describe('isSupportedNode', () => {
  it('accepts Node 24.11+ and 26+, refuses the rest', () => {
    for (const version of ['v24.11.0', '24.21.0', 'v26.0.0', 'v26.10.0', 'v27.1.0']) {
      expect(isSupportedNode(version), version).toBe(true);
    }
    for (const version of ['v20.20.2', 'v22.18.0', 'v24.10.9', 'v25.2.1', 'garbage']) {
      expect(isSupportedNode(version), version).toBe(false);
    }
  });

  it('says what every package.json "engines" says', () => {
    const root = new URL('../../../', import.meta.url);
    const engines = (path: string) =>
      (JSON.parse(readFileSync(new URL(path, root), 'utf8')) as { engines?: { node?: string } })
        .engines?.node;
    expect(engines('package.json')).toBe(SUPPORTED_NODE);
    expect(engines('packages/hrserve/package.json')).toBe(SUPPORTED_NODE);
    expect(engines('services/llmchat/package.json')).toBe(SUPPORTED_NODE);
  });
});
