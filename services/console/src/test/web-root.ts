import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A stand-in for the built page (an index.html only): for tests of the server alone. */
export function placeholderWebRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'console-web-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title>');
  return root;
}
