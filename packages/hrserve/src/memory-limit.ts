import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The memory the kernel lets this process's cgroup use: the unit's MemoryHigh=
 * and MemoryMax= under systemd (drop-ins included), a container's limit
 * elsewhere. `undefined` where there is no limit.
 */
export interface MemoryLimits {
  /** Above this the kernel reclaims hard and throttles (systemd's MemoryHigh=). */
  highBytes?: number;
  /** Above this the OOM killer ends the process (MemoryMax=). */
  maxBytes?: number;
}

/** cgroup v1 writes "no limit" as a huge page-aligned number. */
const V1_UNLIMITED = 2 ** 62;

function readLimit(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (text === 'max' || text === '') return undefined;
  const bytes = Number(text);
  return Number.isFinite(bytes) && bytes < V1_UNLIMITED ? bytes : undefined;
}

function smaller(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Reads the limits of this process's cgroup and its ancestors (a slice's limit
 * binds its units too), the smallest of each kind. `root` is for tests.
 */
export function readMemoryLimits(root = '/'): MemoryLimits {
  let cgroups: string;
  try {
    cgroups = readFileSync(join(root, 'proc/self/cgroup'), 'utf8');
  } catch {
    return {};
  }
  const lines = cgroups.split('\n');
  const v1 = lines.find((line) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(line));
  const v2 = lines.find((line) => line.startsWith('0::'));
  const limits: MemoryLimits = {};
  const visit = (top: string, directory: string, files: { high?: string; max: string }) => {
    // Up to the hierarchy's root, never above it (a path like "/../x" stays inside).
    for (let path = directory; path.startsWith(top); path = join(path, '..')) {
      if (files.high)
        limits.highBytes = smaller(limits.highBytes, readLimit(join(path, files.high)));
      limits.maxBytes = smaller(limits.maxBytes, readLimit(join(path, files.max)));
      if (path === top) return;
    }
  };
  if (v1) {
    const cgroupPath = v1.slice(v1.indexOf(':', v1.indexOf(':') + 1) + 1);
    const top = join(root, 'sys/fs/cgroup/memory');
    visit(top, join(top, cgroupPath), { max: 'memory.limit_in_bytes' });
  } else if (v2) {
    const top = join(root, 'sys/fs/cgroup');
    visit(top, join(top, v2.slice(3)), { high: 'memory.high', max: 'memory.max' });
  }
  return limits;
}
