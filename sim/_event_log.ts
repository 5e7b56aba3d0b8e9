/**
 * The simulator's record: every event it keeps (numbered, stamped, capped
 * at `maxEvents`), the sinks that see each one (`onEvent`, `log`) and the
 * waiters of `waitFor`. Every part of the simulator writes here; its
 * `closed` flag is how they all know the simulator closed.
 * @module
 */
import {
  formatSimEvent,
  type SimEvent,
  type SimEventBody,
  type SimEventType,
} from "./events.ts";

/** Options of {@link OpenDSimulator.waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Only events with `seq >= since` count (default: every event kept); see {@link OpenDSimulator.mark}. */
  since?: number;
}

type _Waiter = {
  match: (e: SimEvent) => boolean;
  since: number;
  resolve: (e: SimEvent) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** Where the record goes besides the kept list. */
export interface _EventSinks {
  /** Called for every event; exceptions are swallowed. */
  onEvent?: (event: SimEvent) => void;
  /** Called with the readable line of every event. */
  log?: (line: string) => void;
  /** How many events are kept. */
  maxEvents: number;
}

/** The kept events, their sinks and their waiters. */
export class _EventLog {
  /** The kept events, oldest first. */
  readonly events: SimEvent[] = [];
  /**
   * Set once the simulator closes: nothing more is recorded (but the final
   * "closed", through {@link emit}), and every part stops acting.
   */
  closed = false;

  readonly #sinks: _EventSinks;
  readonly #waiters = new Set<_Waiter>();
  #seq = 1;

  constructor(sinks: _EventSinks) {
    this.#sinks = sinks;
  }

  /** The `seq` the next event gets. */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Records an event, unless the simulator closed. */
  record(body: SimEventBody): void {
    if (this.closed) return;
    this.emit(body);
  }

  /** Records an event even after closing (only "closed" itself). */
  emit(body: SimEventBody): void {
    const event = { ...body, seq: this.#seq++, time: Date.now() } as SimEvent;
    this.events.push(event);
    const { maxEvents, onEvent, log } = this.#sinks;
    // One at a time from the front: `shift` is O(1) in V8, while `splice(0, 1)`
    // moves every kept event (~50 us per event at the default 10,000).
    while (this.events.length > maxEvents) this.events.shift();
    try {
      onEvent?.(event);
    } catch { /* a sink's failure is not the simulator's */ }
    try {
      log?.(formatSimEvent(event));
    } catch { /* as above */ }
    for (const waiter of this.#waiters) {
      if (event.seq >= waiter.since && waiter.match(event)) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(event);
      }
    }
  }

  /** The work of {@link OpenDSimulator.waitFor}, with either of its signatures. */
  waitFor(
    first: SimEventType | ((event: SimEvent) => boolean),
    second?: ((event: never) => boolean) | WaitForOptions,
    third?: WaitForOptions,
  ): Promise<SimEvent> {
    let match: (e: SimEvent) => boolean;
    let options: WaitForOptions;
    let what: string;
    if (typeof first === "string") {
      const where = second as ((e: SimEvent) => boolean) | undefined;
      match = (e) => e.type === first && (where === undefined || where(e));
      options = third ?? {};
      what = `a "${first}" event`;
    } else {
      match = first;
      options = (second as WaitForOptions | undefined) ?? {};
      what = "a matching event";
    }
    const since = options.since ?? 0;
    const found = this.events.find((e) => e.seq >= since && match(e));
    if (found) return Promise.resolve(found);
    if (this.closed) {
      return Promise.reject(
        new Error(`simulator closed while waiting for ${what}`),
      );
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const waiter: _Waiter = {
        match,
        since,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Rejects every pending waiter: the simulator closed. */
  rejectWaiters(): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("simulator closed"));
    }
    this.#waiters.clear();
  }
}
