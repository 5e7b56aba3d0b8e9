/**
 * The ordered queue through which responses and pushes reach user code.
 *
 * Tasks run one at a time, in the order they were queued (the order packets
 * arrived). A task that returns a promise (an async push handler) is awaited
 * before the next task runs. The first task of a burst runs in a microtask,
 * never inside the socket's read path, so the read path always finishes a
 * chunk (KeepAlive and the supervisor's own responses) before user code runs.
 * @module
 */

/** Microtask turns given to the code awaiting a response before the next delivery. */
const _SETTLE_TICKS = 4;

/** One delivery. */
export interface _Delivery {
  /** Delivers; may return a promise to be awaited before the next task. */
  readonly run: () => unknown;
  /**
   * Responses that arrived must still settle when the queue closes: `settle`
   * runs then (synchronously) instead of `run`. Pushes have none: dropped.
   */
  readonly settle?: () => void;
}

/** Runs deliveries in order; see the module doc. */
export class _DeliveryQueue {
  readonly #onError: (error: unknown) => void;
  #tasks: _Delivery[] = [];
  #head = 0;
  #running = false;
  #closed = false;

  /** `onError` gets whatever a task throws or rejects with. */
  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Tasks waiting (not counting one running). */
  get pending(): number {
    return this.#tasks.length - this.#head;
  }

  /** Queues a delivery; ignored once closed. */
  push(task: _Delivery): void {
    if (this.#closed) {
      task.settle?.();
      return;
    }
    this.#tasks.push(task);
    if (!this.#running) {
      this.#running = true;
      queueMicrotask(() => void this.#pump());
    }
  }

  /**
   * Stops: queued responses settle at once, queued pushes are dropped. A
   * handler still running is not waited for.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const rest = this.#tasks.slice(this.#head);
    this.#tasks = [];
    this.#head = 0;
    for (const task of rest) {
      try {
        task.settle?.();
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  async #pump(): Promise<void> {
    while (!this.#closed && this.#head < this.#tasks.length) {
      const task = this.#tasks[this.#head++];
      if (this.#head > 1024 && this.#head * 2 > this.#tasks.length) {
        this.#tasks = this.#tasks.slice(this.#head);
        this.#head = 0;
      }
      try {
        const result = task.run();
        if (
          result !== null && typeof result === "object" &&
          typeof (result as PromiseLike<unknown>).then === "function"
        ) {
          await result;
        } else if (task.settle !== undefined) {
          // A response was settled: let the code awaiting it run (up to its
          // own next await) before the next push is delivered.
          for (let i = 0; i < _SETTLE_TICKS; i++) await undefined;
        }
      } catch (error) {
        this.#onError(error);
      }
    }
    if (!this.#closed) {
      this.#tasks = [];
      this.#head = 0;
    }
    this.#running = false;
  }
}
