import type { AdmissionQueue, FastifyReply, Slot } from 'hrserve';

export class ClientDisconnected extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientDisconnected';
  }
}

/**
 * A request's place in its model's queue, taken as soon as the request is
 * read — before its prompt is prepared — so under overload the excess is
 * refused at once (429) instead of after that work, and arrival order is
 * kept. It also watches the connection: a client that leaves while waiting
 * gives its place up, and one that leaves while generating stops it.
 */
export class Admission {
  readonly disconnect = new AbortController();
  /** Resolves when a sequence is ours (runGeneration awaits it under the queue-wait span). */
  readonly slot: Promise<Slot>;
  private readonly onClose = () => {
    if (!this.reply.raw.writableFinished) this.disconnect.abort(new ClientDisconnected());
  };

  constructor(
    queue: AdmissionQueue,
    private readonly reply: FastifyReply,
  ) {
    queue.refuseIfFull();
    reply.raw.once('close', this.onClose);
    this.slot = queue.acquire(this.disconnect.signal);
    // Observed by runGeneration, or here in release() when the request fails before it.
    this.slot.catch(() => {});
  }

  /** Gives the place or the sequence back and stops watching the connection (idempotent). */
  release(): void {
    this.reply.raw.off('close', this.onClose);
    void this.slot.then(
      (slot) => slot.release(),
      () => {},
    );
  }
}
