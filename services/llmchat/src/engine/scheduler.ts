import type { Token } from 'node-llama-cpp';
import { PreemptedError, QueueFullError, QueueTimeoutError } from './engine-errors.js';
import type { CachedSequence, PickedSequence, SequencePool } from './sequence-pool.js';

/**
 * `interactive`: someone is waiting for the answer (HTTP requests).
 * `batch`: background work; it gets a sequence only when no interactive job waits. A
 * preemptible batch job (a batch line, which its runner runs again) may take every
 * sequence of an idle server, and gives one back at once to an interactive job that finds
 * none free. Any other batch job never takes the last free sequence (with more than one),
 * so an interactive job arriving finds a sequence free instead of waiting behind it.
 */
export type Priority = 'interactive' | 'batch';

export interface SchedulerOptions {
  /** Jobs that may wait for a sequence, per priority; one more is refused at once. */
  maxWaiting: number;
  /** Milliseconds an interactive job may wait before it is turned away (batch jobs wait as long as it takes). */
  maxWaitMs: number;
  /** Seconds a refused client is told to wait. */
  retryAfterSeconds: number;
}

/**
 * Admission to one model's sequences: who generates now, who waits and who is
 * refused. A job reserves its place as soon as it arrives (before its prompt
 * is prepared, so an overload refusal is immediate and arrival order is kept),
 * gets its turn when a sequence is free (interactive jobs first, each priority
 * first come first served), then takes the free sequence that best reuses its
 * prompt. Everything it holds is given back by one call, `release()`.
 */
export class SequenceScheduler<S extends CachedSequence> {
  private readonly waiting: Record<Priority, Array<Reservation<S>>> = {
    interactive: [],
    batch: [],
  };
  /** Sequences held, by priority (a job with n choices holds n). */
  private readonly heldBy: Record<Priority, number> = { interactive: 0, batch: 0 };
  /** Jobs holding their sequences now. */
  private runningJobs = 0;
  private rejectedCount = 0;

  constructor(
    private readonly pool: SequencePool<S>,
    private readonly sequences: number,
    private readonly options: SchedulerOptions,
  ) {
    if (sequences < 1) throw new RangeError('a scheduler needs at least one sequence');
  }

  /** Jobs holding their sequences now (a job with n choices is one job). */
  get running(): number {
    return this.runningJobs;
  }

  /** Sequences held now. */
  private get held(): number {
    return this.heldBy.interactive + this.heldBy.batch;
  }

  /** Jobs waiting for a sequence now. */
  get queued(): number {
    return this.waiting.interactive.length + this.waiting.batch.length;
  }

  /** Jobs refused since start (queue full or waited too long). */
  get rejected(): number {
    return this.rejectedCount;
  }

  /**
   * A place in the queue, or the turn at once when a sequence is free. Throws
   * `QueueFullError` when no place is left; an aborted `signal` gives the place up.
   */
  reserve(
    options: {
      priority?: Priority;
      signal?: AbortSignal;
      sequences?: number;
      /** A batch job that may be stopped for an interactive one (see `Priority`). */
      preemptible?: boolean;
    } = {},
  ): Reservation<S> {
    const priority = options.priority ?? 'interactive';
    if (options.signal?.aborted) throw options.signal.reason;
    const size = options.sequences ?? 1;
    if (size < 1 || size > this.sequences) {
      throw new RangeError(`a job may hold 1 to ${this.sequences} sequences, not ${size}`);
    }
    const preemptible = priority === 'batch' && options.preemptible === true;
    const reservation = new Reservation<S>(this, priority, options.signal, size, preemptible);
    if (this.canStart(reservation)) {
      this.start(reservation);
      return reservation;
    }
    if (this.waiting[priority].length >= this.options.maxWaiting) {
      this.rejectedCount += 1;
      throw new QueueFullError(this.running, this.queued, this.options.retryAfterSeconds);
    }
    this.enqueue(reservation);
    if (priority === 'interactive') this.preemptFor();
    return reservation;
  }

  /** Batch jobs that cannot be preempted leave one sequence to interactive ones (when there is more than one). */
  private get batchLimit(): number {
    return Math.max(1, this.sequences - 1);
  }

  /** Sequences held by non-preemptible batch jobs. */
  private heldByFixedBatch = 0;

  /** Running preemptible batch jobs, in the order they started. */
  private readonly preemptibleRunning: Array<Reservation<S>> = [];

  /** Sequences of preempted jobs that have not given them back yet. */
  private preemptedPending = 0;

  /**
   * Stops the most recently started preemptible batch jobs until the waiting interactive
   * jobs will find their sequences: the least work is lost, and the sequences they give
   * back go to the interactive jobs first (`grantNext`).
   */
  private preemptFor(): void {
    const wanted = this.waiting.interactive.reduce((sum, job) => sum + job.size, 0);
    let deficit = wanted - (this.sequences - this.held) - this.preemptedPending;
    while (deficit > 0) {
      const victim = this.preemptibleRunning.pop();
      if (!victim) return;
      this.preemptedPending += victim.size;
      deficit -= victim.size;
      victim.preempt(new PreemptedError());
    }
  }

  private canStart(reservation: Reservation<S>): boolean {
    if (!this.fits(reservation)) return false;
    if (reservation.priority === 'interactive') return this.waiting.interactive.length === 0;
    return this.waiting.interactive.length === 0 && this.waiting.batch.length === 0;
  }

  /** Whether the job's sequences are free now (a non-preemptible batch job's within the batch limit). */
  private fits(reservation: Reservation<S>): boolean {
    if (this.held + reservation.size > this.sequences) return false;
    return (
      reservation.priority === 'interactive' ||
      reservation.preemptible ||
      this.heldByFixedBatch + reservation.size <= this.batchLimit
    );
  }

  private start(reservation: Reservation<S>): void {
    this.heldBy[reservation.priority] += reservation.size;
    if (reservation.priority === 'batch' && !reservation.preemptible) {
      this.heldByFixedBatch += reservation.size;
    }
    if (reservation.preemptible) this.preemptibleRunning.push(reservation);
    this.runningJobs += 1;
    reservation.granted();
  }

  private enqueue(reservation: Reservation<S>): void {
    this.waiting[reservation.priority].push(reservation);
    const leave = (error: unknown) => {
      if (this.withdraw(reservation)) reservation.refused(error);
    };
    if (reservation.priority === 'interactive') {
      const timer = setTimeout(() => {
        this.rejectedCount += 1;
        leave(new QueueTimeoutError(this.options.maxWaitMs, this.options.retryAfterSeconds));
      }, this.options.maxWaitMs);
      timer.unref();
      reservation.onSettled(() => clearTimeout(timer));
    }
    reservation.onAbort(leave);
  }

  /**
   * Takes a waiting reservation out of the queue; false when it was not waiting. The jobs
   * behind it may start now (it may have been a job of n choices that none could overtake).
   */
  withdraw(reservation: Reservation<S>): boolean {
    const queue = this.waiting[reservation.priority];
    const index = queue.indexOf(reservation);
    if (index === -1) return false;
    queue.splice(index, 1);
    this.grantNext();
    return true;
  }

  /** Called by a reservation: its turn ends (the sequences it took are free again). */
  finish(reservation: Reservation<S>, sequences: readonly S[]): void {
    for (const sequence of sequences) this.pool.give(sequence);
    this.heldBy[reservation.priority] -= reservation.size;
    if (reservation.priority === 'batch' && !reservation.preemptible) {
      this.heldByFixedBatch -= reservation.size;
    }
    const running = this.preemptibleRunning.indexOf(reservation);
    if (running !== -1) this.preemptibleRunning.splice(running, 1);
    if (reservation.wasPreempted) this.preemptedPending -= reservation.size;
    this.runningJobs -= 1;
    this.grantNext();
  }

  take(prompt: readonly Token[], maxLength?: number): PickedSequence<S> {
    return this.pool.take(prompt, maxLength);
  }

  /** The reservation as one of this scheduler's, or undefined (a caller mixed up its engines). */
  own(reservation: unknown): Reservation<S> | undefined {
    return reservation instanceof Reservation && reservation.scheduler === this
      ? (reservation as Reservation<S>)
      : undefined;
  }

  /** First come, first served within a priority: a job waiting for several sequences is not overtaken. */
  private grantNext(): void {
    for (;;) {
      const priority: Priority | undefined =
        this.waiting.interactive.length > 0
          ? 'interactive'
          : this.waiting.batch.length > 0
            ? 'batch'
            : undefined;
      const next = priority === undefined ? undefined : this.waiting[priority][0];
      if (!priority || !next || !this.fits(next)) return;
      this.waiting[priority].shift();
      this.start(next);
    }
  }
}

type State = 'waiting' | 'granted' | 'holding' | 'released';

/**
 * A job's place with the scheduler: waiting, then its turn, then a sequence.
 * `release()` ends it in every state (idempotent): the one way back.
 */
export class Reservation<S extends CachedSequence> {
  private state: State = 'waiting';
  private readonly reservedAt = performance.now();
  private grantedAt: number | undefined;
  private readonly sequences: S[] = [];
  private readonly turn: Promise<void>;
  private resolveTurn!: () => void;
  private rejectTurn!: (error: unknown) => void;
  private readonly settledCallbacks: Array<() => void> = [];
  private abortListener: (() => void) | undefined;

  /** Aborted when the scheduler takes this job's sequences back for an interactive job. */
  private readonly preemption = new AbortController();

  constructor(
    readonly scheduler: SequenceScheduler<S>,
    readonly priority: Priority,
    private readonly signal: AbortSignal | undefined,
    /** Sequences the job holds at once (one per choice). */
    readonly size = 1,
    /** Whether the scheduler may stop it for an interactive job (`PreemptedError`). */
    readonly preemptible = false,
  ) {
    this.turn = new Promise<void>((resolve, reject) => {
      this.resolveTurn = resolve;
      this.rejectTurn = reject;
    });
    // Observed by `acquire`, or never when the job fails before it: not an unhandled rejection.
    this.turn.catch(() => {});
  }

  /** Waits for the turn (a sequence is free for this job); returns the milliseconds waited. */
  async waitForTurn(): Promise<number> {
    await this.turn;
    return (this.grantedAt ?? this.reservedAt) - this.reservedAt;
  }

  /**
   * Waits for the turn, then takes the free sequence that best reuses `prompt` (which may
   * come back realigned to the sequence's tokens, at most `maxLength` long).
   */
  async acquire(prompt: readonly Token[], maxLength?: number): Promise<PickedSequence<S>> {
    await this.turn;
    if (this.state !== 'granted') throw new Error(`acquire() on a ${this.state} reservation`);
    const picked = this.scheduler.take(prompt, maxLength);
    this.sequences.push(picked.sequence);
    this.state = 'holding';
    return picked;
  }

  /**
   * After `acquire`, the job's other sequences (size − 1 of them), whatever they hold:
   * the caller copies the first one's state into them.
   */
  takeSiblings(prompt: readonly Token[]): S[] {
    if (this.state !== 'holding') throw new Error(`takeSiblings() on a ${this.state} reservation`);
    const siblings = Array.from(
      { length: this.size - this.sequences.length },
      () => this.scheduler.take(prompt).sequence,
    );
    this.sequences.push(...siblings);
    return siblings;
  }

  /**
   * Aborted (with a `PreemptedError`) when the scheduler wants this job's sequences for an
   * interactive job: the job stops at its next step and releases them.
   */
  get preempted(): AbortSignal {
    return this.preemption.signal;
  }

  get wasPreempted(): boolean {
    return this.preemption.signal.aborted;
  }

  /** Scheduler: give the sequences back. */
  preempt(reason: PreemptedError): void {
    if (this.state === 'released' || this.preemption.signal.aborted) return;
    this.preemption.abort(reason);
  }

  release(): void {
    const was = this.state;
    if (was === 'released') return;
    this.state = 'released';
    this.settle();
    if (was === 'waiting') {
      this.scheduler.withdraw(this);
      this.rejectTurn(new Error('reservation released before its turn'));
    } else {
      this.scheduler.finish(this, this.sequences.splice(0));
    }
  }

  /** Scheduler: the turn is this job's. */
  granted(): void {
    if (this.state !== 'waiting') return;
    this.state = 'granted';
    this.grantedAt = performance.now();
    this.settle();
    this.resolveTurn();
  }

  /** Scheduler: the job was turned away while waiting (timeout or abort). */
  refused(error: unknown): void {
    if (this.state !== 'waiting') return;
    this.state = 'released';
    this.settle();
    this.rejectTurn(error);
  }

  onSettled(callback: () => void): void {
    this.settledCallbacks.push(callback);
  }

  onAbort(leave: (reason: unknown) => void): void {
    if (!this.signal) return;
    const signal = this.signal;
    this.abortListener = () => leave(signal.reason);
    signal.addEventListener('abort', this.abortListener, { once: true });
  }

  private settle(): void {
    if (this.abortListener) this.signal?.removeEventListener('abort', this.abortListener);
    this.abortListener = undefined;
    for (const callback of this.settledCallbacks.splice(0)) callback();
  }
}
