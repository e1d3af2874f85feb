import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnService } from '@hrserve/test-support/spawn';
import { EMBED_ROOT, LLMCHAT_ROOT, type ScenarioResult, STORIES } from '../target.js';

const run = promisify(execFile);
/** EX_CONFIG: the units do not restart on it (RestartPreventExitStatus). */
const CONFIG_ERROR_EXIT_CODE = 78;

/**
 * Issue 17, item 7: a GPU backend the host lacks, asked for by name. Each
 * service stops at start with one line (what was asked, what there is, how to
 * fix it) and exit 78, not a stack; `gpu-check` says what the host has and
 * generates with LLMCHAT_GPU=auto.
 */
export async function gpuScenario(): Promise<ScenarioResult> {
  const failures: string[] = [];
  const figures: Record<string, string> = {};
  for (const [service, root, env] of [
    ['llmchat', LLMCHAT_ROOT, { LLMCHAT_MODEL: STORIES, LLMCHAT_GPU: 'cuda' }],
    ['embed', EMBED_ROOT, { EMBED_MODEL: STORIES, EMBED_GPU: 'vulkan' }],
  ] as const) {
    const label = `${service} with ${Object.keys(env)[1]}=${Object.values(env)[1]}`;
    const spawned = await spawnService({ cwd: root, env });
    const started = spawned
      .waitForLog((line) => line.msg === 'model loaded', 60_000)
      .then(
        () => true,
        () => false,
      );
    const outcome = await Promise.race([spawned.exited, started]);
    if (outcome === true) {
      // This host has that backend: nothing to refuse.
      figures[label] = 'started (the host has it)';
      await spawned.stop();
      continue;
    }
    const exit = await spawned.exited;
    const lines = spawned.stderr().trim().split('\n');
    figures[label] = `exit ${exit.code}: ${lines.at(-1)?.slice(0, 100) ?? ''}…`;
    if (exit.code !== CONFIG_ERROR_EXIT_CODE) failures.push(`${label}: exit ${exit.code}, not 78`);
    if (lines.length !== 1 || /\n\s+at /.test(spawned.stderr()))
      failures.push(`${label}: ${lines.length} lines on stderr (a stack?)`);
    if (!/=auto/.test(lines[0] ?? '')) failures.push(`${label}: the line names no fix`);
  }
  const check = await run(
    process.execPath,
    ['dist/gpu-check.js', '--model', STORIES, '--tokens', '16'],
    {
      cwd: LLMCHAT_ROOT,
      timeout: 120_000,
    },
  ).then(
    (result) => ({ code: 0, stdout: result.stdout }),
    (error: { code?: number; stdout?: string }) => ({
      code: error.code ?? 1,
      stdout: error.stdout ?? '',
    }),
  );
  const picks = /LLMCHAT_GPU=auto picks: (\S+)/.exec(check.stdout)?.[1];
  const generated = /generated (\d+) tokens/.exec(check.stdout)?.[1];
  figures['gpu-check: auto picks'] = picks ?? '-';
  figures['gpu-check: tokens generated'] = generated ?? '-';
  if (check.code !== 0 || !picks || !generated)
    failures.push(`gpu-check exit ${check.code}: ${check.stdout.slice(-200)}`);
  return { name: 'GPU: a backend the host lacks, and gpu-check', figures, failures };
}
