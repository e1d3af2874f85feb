import type { MemoryLimits } from 'hrserve';

/**
 * What llmchat needs besides its models' estimates (weights + contexts): Node
 * and its heap, llama.cpp's compute buffers, compiled grammars. The budget
 * stops this far below the cgroup's limit so the limit is never what stops a load.
 */
export const PROCESS_HEADROOM_MB = 512;

export interface MemoryBudget {
  /** The budget models are loaded against; undefined: no budget (no limit, none set). */
  mb: number | undefined;
  /** Where the budget comes from and how to raise it, for a refused model's message. */
  raise: string;
  /** For the log at start: why the budget is not what LLMCHAT_MEMORY_BUDGET_MB says. */
  warning?: string;
  note?: string;
}

const MIB = 1024 * 1024;

/**
 * LLMCHAT_MEMORY_BUDGET_MB squared with the unit's memory limits: a budget
 * above MemoryHigh= (or MemoryMax=) would let models load that the kernel then
 * throttles or OOM-kills, so it is lowered to fit, with a warning naming both
 * fixes; with no budget set, the limit gives one.
 */
export function memoryBudget(configuredMb: number | undefined, limits: MemoryLimits): MemoryBudget {
  // The lower of the two binds: a drop-in may lower MemoryMax below the unit's MemoryHigh,
  // or a slice or container cap it; past MemoryHigh the kernel throttles, past MemoryMax it kills.
  const high = limits.highBytes ?? Number.POSITIVE_INFINITY;
  const max = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const limitBytes = Math.min(high, max);
  const bySetting = `LLMCHAT_MEMORY_BUDGET_MB=${configuredMb}: raise the budget`;
  if (!Number.isFinite(limitBytes)) return { mb: configuredMb, raise: bySetting };
  const limitName = high <= max ? 'MemoryHigh' : 'MemoryMax';
  const limitMb = Math.floor(limitBytes / MIB);
  const usableMb = Math.max(limitMb - PROCESS_HEADROOM_MB, 1);
  const limit = `${limitName}=${limitMb}M`;
  const byLimit = `the memory limit's budget (${limit} less ${PROCESS_HEADROOM_MB} MiB): raise MemoryHigh and MemoryMax with systemctl --user edit llmchat`;
  if (configuredMb === undefined) {
    return {
      mb: usableMb,
      raise: byLimit,
      note: `LLMCHAT_MEMORY_BUDGET_MB is not set: models may use ${usableMb} MiB, the memory limit (${limit}) less ${PROCESS_HEADROOM_MB} MiB for the process.`,
    };
  }
  if (configuredMb <= usableMb) return { mb: configuredMb, raise: bySetting };
  return {
    mb: usableMb,
    raise: `${byLimit} (LLMCHAT_MEMORY_BUDGET_MB=${configuredMb} is lowered to fit)`,
    warning: `LLMCHAT_MEMORY_BUDGET_MB=${configuredMb} does not fit the memory limit (${limit}, less ${PROCESS_HEADROOM_MB} MiB for the process): models are budgeted ${usableMb} MiB. To give them more, raise the limit (systemctl --user edit llmchat, then under [Service]: MemoryHigh=… and MemoryMax=…), or lower LLMCHAT_MEMORY_BUDGET_MB.`,
  };
}
