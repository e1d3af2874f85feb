import { formatBytes, formatUptime } from '../format';
import { BatchesTable } from './batches-table';
import type { FleetService } from './fleet-data';
import { ModelsTable } from './models-table';
import { Sparkline } from './sparkline';

function telemetryText(service: FleetService): string {
  const telemetry = service.health?.telemetry;
  if (!telemetry) return '–';
  if (!telemetry.enabled) return 'off';
  if (!telemetry.last_export) return 'no export yet';
  return telemetry.last_export.ok
    ? 'exporting'
    : `failing: ${telemetry.last_export.error ?? 'unknown error'}`;
}

/** One service: state, figures, charts, models and batches. */
export function ServiceCard(props: { service: FleetService; onChange: () => void }) {
  const { service } = props;
  const health = service.health;
  const state = service.error ?? health?.status ?? 'unknown';
  const queue = health?.queue;
  const chart = service.chart;
  // A chat service makes tokens; another (embed) reads them.
  const tokens = service.chat
    ? { label: 'Output speed', values: chart.map((point) => point.output_tokens_per_s) }
    : { label: 'Input speed', values: chart.map((point) => point.input_tokens_per_s) };
  const minutes =
    chart.length > 1
      ? Math.max(1, Math.round(((chart.at(-1)?.t ?? 0) - (chart[0]?.t ?? 0)) / 60_000))
      : 0;
  return (
    <section
      class="service"
      aria-labelledby={`service-${service.name}`}
      data-service={service.name}
    >
      <header>
        <h2 id={`service-${service.name}`}>{service.name}</h2>
        <span class={`badge ${health?.status === 'ok' ? 'ok' : 'bad'}`} data-testid="state">
          {state}
        </span>
      </header>
      <dl class="facts">
        <div>
          <dt>Address</dt>
          <dd class="mono">{service.url}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{health?.version ?? '–'}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd>{formatUptime(health?.uptime_s)}</dd>
        </div>
        <div>
          <dt>RSS</dt>
          <dd>{formatBytes(health?.rss_bytes)}</dd>
        </div>
        <div>
          <dt>Queue (running / waiting / rejected)</dt>
          <dd data-testid="queue">
            {queue ? `${queue.running ?? 0} / ${queue.waiting ?? 0} / ${queue.rejected ?? 0}` : '–'}
          </dd>
        </div>
        <div>
          <dt>Telemetry</dt>
          <dd>{telemetryText(service)}</dd>
        </div>
      </dl>
      {health && (
        <>
          <div class="charts">
            {chart.some((point) => point.ttft_ms !== null) || service.chat ? (
              <Sparkline label="Mean TTFT" unit="ms" values={chart.map((point) => point.ttft_ms)} />
            ) : null}
            <Sparkline label={tokens.label} unit="tokens/s" digits={1} values={tokens.values} />
            <p class="chart-window">
              {minutes ? `last ${minutes} min, one point per sample` : 'collecting samples'}
            </p>
          </div>
          <ModelsTable service={service} onChange={props.onChange} />
          {service.batches && (
            <BatchesTable
              service={service.name}
              batches={service.batches}
              onChange={props.onChange}
            />
          )}
        </>
      )}
    </section>
  );
}
