/**
 * The whole fleet at a glance: every service of the port table, its unit's
 * state (where systemd runs), what its /health says (state, version, uptime,
 * loaded models, queue, RSS, telemetry export) — one table.
 *
 *   just status      (just status <service> is systemctl's own)
 *   just health      (the same without systemd)
 *
 * The command is fleet-status.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a service's /health answers, as far as the table reads it. */
export interface HealthBody {
  status?: string;
  version?: string;
  uptime_s?: number;
  model?: string | null;
  models?: Array<{ id?: string; source?: string; loaded?: boolean }>;
  queue?: { running?: number; waiting?: number; rejected?: number };
  rss_bytes?: number;
  telemetry?: {
    enabled?: boolean;
    last_export?: { ok?: boolean; error?: string } | null;
  };
}

export interface FleetRow {
  service: string;
  port: number;
  unit: string;
  health: HealthBody | { error: string };
}

export const COLUMNS = [
  'service',
  'port',
  'unit',
  'health',
  'version',
  'uptime',
  'models',
  'queue (run/wait/rej)',
  'RSS',
  'telemetry',
] as const;

function uptime(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function telemetry(body: HealthBody): string {
  const status = body.telemetry;
  if (!status) return '-';
  if (!status.enabled) return 'off';
  if (!status.last_export) return 'no export yet';
  return status.last_export.ok ? 'exporting' : `failing: ${status.last_export.error ?? '?'}`;
}

/** One row's cells, in COLUMNS' order. */
export function cells(row: FleetRow): string[] {
  const head = [row.service, String(row.port), row.unit];
  if ('error' in row.health) return [...head, row.health.error, '', '', '', '', '', ''];
  const body = row.health;
  const models =
    body.models
      ?.map((model) => model.id ?? (model.source ? `${model.source} (not loaded)` : '?'))
      .join(', ') ?? '';
  const queue = body.queue
    ? `${body.queue.running ?? 0}/${body.queue.waiting ?? 0}/${body.queue.rejected ?? 0}`
    : '-';
  const rss = body.rss_bytes === undefined ? '-' : `${Math.round(body.rss_bytes / 2 ** 20)} MiB`;
  return [
    ...head,
    body.status ?? '?',
    body.version ?? '-',
    uptime(body.uptime_s),
    models || '-',
    queue,
    rss,
    telemetry(body),
  ];
}

/** The rows as an aligned text table. */
export function renderTable(rows: readonly FleetRow[]): string {
  const table = [[...COLUMNS], ...rows.map(cells)];
  const widths = COLUMNS.map((_, column) =>
    Math.max(...table.map((cellsOfRow) => (cellsOfRow[column] ?? '').length)),
  );
  return table
    .map((cellsOfRow) =>
      cellsOfRow
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** /health of a service on this host: its body (200 or 503), or why there is none. */
export async function fetchHealth(port: number): Promise<HealthBody | { error: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(2_000),
    });
    return (await response.json()) as HealthBody;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { error: cause === 'ECONNREFUSED' ? 'down (nothing listens)' : 'no answer' };
  }
}

/** Whether a systemd user manager answers here (asked once for the whole table). */
export async function userManagerAnswers(): Promise<boolean> {
  return run('systemctl', ['--user', 'show-environment'], { timeout: 2_000 }).then(
    () => true,
    () => false,
  );
}

/** `systemctl --user is-active` of the service's unit: active, inactive, failed, … */
export async function unitState(service: string): Promise<string> {
  try {
    const { stdout } = await run('systemctl', ['--user', 'is-active', `${service}.service`], {
      timeout: 2_000,
    });
    return stdout.trim();
  } catch (error) {
    // is-active exits non-zero for inactive and failed units, printing the state.
    return (error as { stdout?: string }).stdout?.trim() || '-';
  }
}

export async function fleet(
  ports: Record<string, number>,
  options: { systemd: boolean },
): Promise<FleetRow[]> {
  const systemd = options.systemd && (await userManagerAnswers());
  return Promise.all(
    Object.entries(ports).map(async ([service, port]) => ({
      service,
      port,
      unit: systemd ? await unitState(service) : '-',
      health: await fetchHealth(port),
    })),
  );
}
