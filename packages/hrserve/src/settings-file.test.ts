import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsFileOf, settingsFileWarning } from './settings-file.js';

describe('the settings file', () => {
  it('is where the unit reads it', () => {
    expect(settingsFileOf('llmchat', '/home/ada')).toBe('/home/ada/.config/hrserve/llmchat.env');
  });

  it('warns when others may read it, saying how to fix it; not when private or absent', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'settings-')), 'llmchat.env');
    expect(settingsFileWarning(path)).toBeUndefined();
    await writeFile(path, 'API_KEYS=secret\n');
    await chmod(path, 0o644);
    expect(settingsFileWarning(path)).toBe(
      `${path} is readable by other users (mode 0644) and may hold API keys: chmod 600 ${path} (or run: just config <service>)`,
    );
    await chmod(path, 0o600);
    expect(settingsFileWarning(path)).toBeUndefined();
  });
});
