import { useEffect, useRef, useState } from 'preact/hooks';
import { callJson, describeError } from '../api';

/** What /health says (the fields the page reads). */
export interface Health {
  status?: string;
  version?: string;
  uptime_s?: number;
  rss_bytes?: number;
  queue?: { running?: number; waiting?: number; rejected?: number };
  telemetry?: { enabled?: boolean; last_export?: { ok?: boolean; error?: string } | null };
  models?: Array<{ id?: string; source?: string; loaded?: boolean }>;
  [detail: string]: unknown;
}

export interface ModelInfo {
  id: string;
  loaded?: boolean;
  size_bytes?: number;
  context_length?: number;
}

export interface LoadedModel {
  name: string;
  /** RAM estimate in bytes. */
  size: number;
  expires_at: string;
}

export interface Batch {
  id: string;
  endpoint: string;
  status: string;
  created_at: number;
  output_file_id?: string | null;
  error_file_id?: string | null;
  request_counts?: { total: number; completed: number; failed: number };
  metadata?: Record<string, string> | null;
}

export interface ChartPoint {
  t: number;
  ttft_ms: number | null;
  output_tokens_per_s: number;
  input_tokens_per_s: number;
}

export interface FleetService {
  name: string;
  url: string;
  health: Health | null;
  error?: string;
  models?: ModelInfo[];
  loaded?: LoadedModel[];
  batches?: Batch[];
  chat: boolean;
  chart: ChartPoint[];
}

export interface Fleet {
  services: FleetService[];
  trace_url: string | null;
}

export function fetchFleet(): Promise<Fleet> {
  return callJson<Fleet>('/console/fleet');
}

/** The fleet, read again every `intervalMs` while the page shows it. */
export function useFleet(intervalMs: number): {
  fleet: Fleet | undefined;
  error: string | undefined;
  refresh: () => void;
} {
  const [fleet, setFleet] = useState<Fleet | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  // A new interval applies from the next read: changing it must not drop a read under way.
  const interval = useRef(intervalMs);
  interval.current = intervalMs;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const read = async () => {
      try {
        const next = await fetchFleet();
        if (stopped) return;
        setFleet(next);
        setError(undefined);
      } catch (failure) {
        if (!stopped) setError(describeError(failure));
      }
      if (!stopped) timer = window.setTimeout(read, interval.current);
    };
    void read();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [tick]);
  return { fleet, error, refresh: () => setTick((value) => value + 1) };
}

/** A trace's link, when the console has a trace UI URL. */
export function traceLink(traceUrl: string | null | undefined, traceId: string | undefined) {
  return traceUrl && traceId
    ? traceUrl.replace('{trace_id}', encodeURIComponent(traceId))
    : undefined;
}
