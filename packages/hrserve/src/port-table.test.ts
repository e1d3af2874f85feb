import { describe, expect, it } from 'vitest';
import { portConflict, tablePort } from './port-table.js';

describe('the port table', () => {
  const read = () => JSON.stringify({ llmchat: 2020, embed: 2021 });

  it("gives a service's port, or nothing for a service or a table that is not there", () => {
    expect(tablePort('llmchat', {}, read)).toBe(2020);
    expect(tablePort('hello', {}, read)).toBeUndefined();
    expect(
      tablePort('llmchat', {}, () => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('is the truth: another PORT is a conflict that says how to fix it; 0 and the same port are not', () => {
    expect(portConflict('llmchat', 2020, 2020)).toBeUndefined();
    expect(portConflict('llmchat', 0, 2020)).toBeUndefined();
    expect(portConflict('hello', 8080, undefined)).toBeUndefined();
    expect(portConflict('llmchat', 2099, 2020)).toBe(
      'PORT=2099 differs from the port table (systemd/ports.json: llmchat is on 2020), which clients use to find llmchat. Remove PORT from its settings file, or change the port in services/llmchat/package.json ("hrserve" block) and run just gen.',
    );
  });
});
