import type { ClaimedJob, JobsRepository } from '@hrserve/store';
import { RateLimitedWarning, Waker } from './waker.js';

/** What running a job came to. */
export type JobOutcome =
  | { status: 'succeeded' | 'failed'; result: unknown }
  /** Not now (the service is overloaded): back to the queue, claims pause for `afterMs`. */
  | { status: 'retry'; afterMs: number };

export interface JobRunnerLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

export interface JobRunnerOptions {
  /** The queue this runner claims from. */
  queue: string;
  /** Who holds the leases: unique per process (host, pid and a random part). */
  owner: string;
  /** Jobs running at once. */
  concurrency: number;
  /** How long a claim holds without renewal; renewed every third of it. */
  leaseMs: number;
  /** How often an idle runner looks for work (`wake()` cuts the wait short). */
  pollMs: number;
  /** Claims a job gets before it is failed (its workers stopped each time: a crash, kill -9). */
  maxAttempts: number;
  /** The store's jobs; throws while the store is not open (the runner waits and tries again). */
  jobs(): JobsRepository;
  /** Runs one job. It should not throw; if it does, the job fails with `failure`'s result. */
  run(job: ClaimedJob, signal: AbortSignal): Promise<JobOutcome>;
  /**
   * The result recorded for a job that threw, or whose attempts ran out (`error` undefined);
   * it may record the failure elsewhere too (a background response stored as failed).
   */
  failure(job: ClaimedJob, error: unknown): unknown;
  /** Called once a job's outcome is recorded. */
  onFinished?(job: ClaimedJob, status: 'succeeded' | 'failed'): void;
  log: JobRunnerLogger;
}

/** Why a running job was stopped. */
const STOPPING = Symbol('stopping');
const LEASE_LOST = Symbol('lease lost');

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Claims jobs from one queue of the store and runs them, up to `concurrency` at once,
 * renewing their leases while they run. A job whose lease another runner took (this one
 * stalled), or that was cancelled, is stopped and its result dropped; one that keeps
 * killing its workers fails after `maxAttempts`. Stopping gives running jobs back to the
 * queue, so a restart (here or on another instance) runs them again.
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #running = new Map<string, Running>();
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #waker = new Waker();
  readonly #warning: RateLimitedWarning;
  #stopping = false;
  #pausedUntil = 0;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#warning = new RateLimitedWarning(options.log);
  }

  /** Jobs running in this process now. */
  get running(): number {
    return this.#running.size;
  }

  start(): void {
    this.#loop ??= this.#claimLoop();
    this.#heartbeat ??= setInterval(() => void this.#renew(), this.#options.leaseMs / 3);
    this.#heartbeat.unref();
  }

  /** There may be new work (a batch was started here): look now, not at the next poll. */
  wake(): void {
    this.#waker.wake();
  }

  /**
   * Stops this process's running jobs of a group now (its batch was cancelled here); other
   * processes find out at their next renewal. Their results are dropped.
   */
  abortGroup(groupId: string): void {
    for (const { job, controller } of this.#running.values()) {
      if (job.groupId === groupId) controller.abort(LEASE_LOST);
    }
  }

  /** Stops claiming, stops the running jobs and gives them back to the queue. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    this.wake();
    const running = [...this.#running.values()];
    for (const { controller } of running) controller.abort(STOPPING);
    await Promise.all(running.map(({ done }) => done));
    await this.#loop;
  }

  async #claimLoop(): Promise<void> {
    const { queue, owner, leaseMs, pollMs, concurrency } = this.#options;
    let resumed = false;
    while (!this.#stopping) {
      if (!resumed) {
        try {
          await this.#resumeKilledRun();
          resumed = true;
        } catch (error) {
          this.#warning.warn(error, 'giving back the jobs of a killed run failed; trying again');
          await this.#waker.sleep(pollMs * 5);
          continue;
        }
      }
      const free = concurrency - this.#running.size;
      const pausedFor = this.#pausedUntil - Date.now();
      if (free <= 0 || pausedFor > 0) {
        await this.#waker.sleep(pausedFor > 0 ? pausedFor : pollMs);
        continue;
      }
      let claimed: ClaimedJob[];
      try {
        claimed = await this.#options
          .jobs()
          .claim(queue, { owner, leaseMs, limit: free, now: Date.now() });
      } catch (error) {
        this.#warning.warn(error, 'claiming background jobs failed; trying again');
        await this.#waker.sleep(pollMs * 5);
        continue;
      }
      if (this.#stopping) {
        await Promise.all(claimed.map((job) => this.#release(job)));
        return;
      }
      // A job still running here whose lease ran out (renewals failed a while): the store
      // excludes this owner's own, but a claim must never start a job twice in one process.
      for (const job of claimed) if (!this.#running.has(job.id)) this.#start(job);
      if (claimed.length < free) await this.#waker.sleep(pollMs);
    }
  }

  /**
   * One process uses a SQLite store: the jobs it finds running were held by a run that was
   * killed, and run again now rather than when their leases run out.
   */
  async #resumeKilledRun(): Promise<void> {
    const jobs = this.#options.jobs();
    if (!jobs.singleProcess) return;
    const resumed = await jobs.requeueRunning(this.#options.queue);
    if (resumed > 0) {
      this.#options.log.warn(
        { queue: this.#options.queue, jobs: resumed },
        `running again ${resumed} ${this.#options.queue} jobs the last run left unfinished`,
      );
    }
  }

  #start(job: ClaimedJob): void {
    const controller = new AbortController();
    const done = this.#execute(job, controller.signal).finally(() => {
      this.#running.delete(job.id);
      this.wake();
    });
    this.#running.set(job.id, { job, controller, done });
  }

  async #execute(job: ClaimedJob, signal: AbortSignal): Promise<void> {
    const { maxAttempts, owner } = this.#options;
    let outcome: JobOutcome;
    try {
      if (job.attempts > maxAttempts) {
        outcome = { status: 'failed', result: await this.#options.failure(job, undefined) };
      } else {
        try {
          outcome = await this.#options.run(job, signal);
        } catch (error) {
          // Stopped from here: what it threw is the stop, not the job's failure.
          if (signal.aborted) outcome = { status: 'retry', afterMs: 0 };
          else outcome = { status: 'failed', result: await this.#options.failure(job, error) };
        }
      }
    } catch (error) {
      // `failure` itself failed (the store is down): the lease runs out, another claim retries.
      this.#warning.warn(error, 'recording a failed background job failed; it will run again');
      return;
    }
    // Stopped: its result (a cut answer) is not the job's.
    if (signal.reason === LEASE_LOST) return;
    if (signal.reason === STOPPING || outcome.status === 'retry') {
      if (outcome.status === 'retry') this.#pausedUntil = Date.now() + outcome.afterMs;
      await this.#release(job);
      return;
    }
    try {
      const recorded = await this.#options.jobs().finish(job.id, owner, outcome, Date.now());
      if (recorded) this.#options.onFinished?.(job, outcome.status);
    } catch (error) {
      // Its lease runs out and another claim runs it again.
      this.#warning.warn(error, 'recording a background job failed; it will run again');
    }
  }

  async #release(job: ClaimedJob): Promise<void> {
    try {
      await this.#options.jobs().release(job.id, this.#options.owner);
    } catch (error) {
      this.#warning.warn(error, 'giving a background job back failed; its lease runs out instead');
    }
  }

  async #renew(): Promise<void> {
    const ids = [...this.#running.keys()];
    if (ids.length === 0) return;
    try {
      const { owner, leaseMs } = this.#options;
      const kept = new Set(await this.#options.jobs().renew(owner, ids, leaseMs, Date.now()));
      for (const id of ids) {
        if (!kept.has(id)) this.#running.get(id)?.controller.abort(LEASE_LOST);
      }
    } catch (error) {
      this.#warning.warn(error, 'renewing background job leases failed');
    }
  }
}
