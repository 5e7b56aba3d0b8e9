/**
 * Watches one client from outside, through its public API only (events,
 * snapshots, inspection), and turns what it sees into what the operations
 * surface serves: sanitized timeline entries, a render-ready state (summary,
 * highlighted state ids, a pending code request), keep-alive round trips and
 * loss-to-Ready times. Listeners run synchronously with the supervisor, so
 * each one must only record or enqueue.
 * @module
 */
import type { OpenDClient } from "../client/mod.ts";
import {
  describeSession,
  redactSecrets,
  type SessionEmitted,
  type SessionSnapshot,
  type SessionSummary,
} from "../machines/mod.ts";
import { activeStateIds } from "./active_states.ts";

/** One supervisor event as the console shows it: no secret, JSON-safe. */
export interface ConsoleEvent {
  /** Increases by one per event, from 1. */
  readonly seq: number;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** The event's type (`ready`, `lost`, ..., or `console` for the console's own). */
  readonly type: string;
  /** The event, sanitized. */
  readonly event: Readonly<Record<string, unknown>>;
}

/** A code the supervisor is waiting for. */
export interface PendingCode {
  /** Phone (SMS) or picture code. */
  readonly kind: "phone" | "picture";
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** Where OpenD saved the picture, for picture codes. */
  readonly picturePath?: string;
}

/** What the console shows now. */
export interface ConsoleState {
  /** The supervisor's summary. */
  readonly summary: SessionSummary;
  /** Active state ids that the statechart picture draws, sorted. */
  readonly active: readonly string[];
  /** The code request waiting for a person, if any. */
  readonly pendingCode: PendingCode | null;
  /** Whether `POST /api/reset` has something to clear. */
  readonly canReset: boolean;
  /** Whether the supervisor runs (started, not closed, not crashed). */
  readonly running: boolean;
}

/** What the observer reports. */
export interface _ObserverListener {
  event?(entry: ConsoleEvent, raw: SessionEmitted | undefined): void;
  state?(state: ConsoleState, previous: ConsoleState): void;
  keepAlive?(rttMs: number): void;
  /** Ready again `downMs` after the first loss of an outage (just before that `ready` event). */
  recovered?(downMs: number, lostReason: string): void;
}

const HISTORY = 200;

/** Strings redacted, bigints as strings, nothing but plain data. */
function sanitize(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (typeof value === "bigint") return value.toString();
  if (
    value === null || typeof value === "number" || typeof value === "boolean"
  ) return value;
  if (depth > 6 || typeof value !== "object") return undefined;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1));
  // Only plain records: a Secret or any class instance is left out whole.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const clean = sanitize(v, depth + 1);
    if (clean !== undefined) out[k] = clean;
  }
  return out;
}

/** Observes one client; {@link close} lets go of it. */
export class _Observer {
  readonly #client: OpenDClient;
  readonly #diagramIds: ReadonlySet<string>;
  readonly #listeners = new Set<_ObserverListener>();
  readonly #history: ConsoleEvent[] = [];
  readonly #offs: (() => void)[] = [];
  readonly #now: () => number;
  #seq = 0;
  #state: ConsoleState;
  #stateJson: string;
  #lastContext: unknown;
  #lastKey = "";
  #keepAliveSince: number | undefined;
  #wasSending = false;
  #lostAt: number | undefined;
  #lostReason = "";

  constructor(
    client: OpenDClient,
    diagramIds: ReadonlySet<string>,
    now: () => number = () => performance.now(),
  ) {
    this.#client = client;
    this.#diagramIds = diagramIds;
    this.#now = now;
    this.#state = this.#compute(client.getSnapshot());
    this.#stateJson = JSON.stringify(this.#state);
    this.#offs.push(client.on("*", (event) => this.#onEmitted(event)));
    const sub = client.actor.subscribe({
      next: (snapshot) => this.#onSnapshot(snapshot),
      error: () => this.#onSnapshot(client.getSnapshot()),
      complete: () => this.#onSnapshot(client.getSnapshot()),
    });
    this.#offs.push(() => sub.unsubscribe());
    const inspection = client.actor.system.inspect((event) => {
      if (
        event.type === "@xstate.event" &&
        event.event.type === "xstate.done.actor.keepAlive" &&
        this.#keepAliveSince !== undefined
      ) {
        const rtt = this.#now() - this.#keepAliveSince;
        this.#keepAliveSince = undefined;
        this.#emit((l) => l.keepAlive?.(rtt));
      }
    });
    this.#offs.push(() => inspection.unsubscribe());
  }

  /** The state now. */
  get state(): ConsoleState {
    return this.#state;
  }

  /** The last events, oldest first. */
  history(): ConsoleEvent[] {
    return [...this.#history];
  }

  /** Adds a listener; returns its removal. */
  listen(listener: _ObserverListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records something the console itself did (never with a secret). */
  note(fields: Record<string, string | number | boolean>): void {
    this.#record("console", { type: "console", ...fields }, undefined);
  }

  /** Stops observing. */
  close(): void {
    for (const off of this.#offs.splice(0)) off();
    this.#listeners.clear();
  }

  #emit(call: (listener: _ObserverListener) => void): void {
    for (const listener of this.#listeners) {
      try {
        call(listener);
      } catch { /* one listener's failure is not the supervisor's */ }
    }
  }

  #record(
    type: string,
    event: Record<string, unknown>,
    raw: SessionEmitted | undefined,
  ): void {
    const entry: ConsoleEvent = {
      seq: ++this.#seq,
      at: new Date().toISOString(),
      type,
      event: (sanitize(event) ?? {}) as Record<string, unknown>,
    };
    this.#history.push(entry);
    if (this.#history.length > HISTORY) this.#history.shift();
    this.#emit((l) => l.event?.(entry, raw));
  }

  #onEmitted(event: SessionEmitted): void {
    if (event.type === "lost" && this.#lostAt === undefined) {
      this.#lostAt = this.#now();
      this.#lostReason = redactSecrets(event.reason);
    }
    // Before the `ready` event itself, so its listeners know the outage.
    if (event.type === "ready" && this.#lostAt !== undefined) {
      const down = this.#now() - this.#lostAt;
      this.#lostAt = undefined;
      this.#emit((l) => l.recovered?.(down, this.#lostReason));
    }
    this.#record(event.type, event as Record<string, unknown>, event);
  }

  #onSnapshot(snapshot: SessionSnapshot): void {
    const value = snapshot.value as {
      link?: { session?: { online?: { keepAlive?: string } } };
    };
    const sending = value.link?.session?.online?.keepAlive === "sending";
    if (sending && !this.#wasSending) this.#keepAliveSince = this.#now();
    if (!sending) this.#keepAliveSince = undefined;
    this.#wasSending = sending;

    // Most snapshots (bytes arrived, a keep-alive went out) change neither
    // context nor the states the console shows: skip them cheaply, since
    // this runs with the supervisor on every packet.
    const key = `${snapshot.status}${this.#client.closed}${
      JSON.stringify(snapshot.value)
    }`;
    if (snapshot.context === this.#lastContext && key === this.#lastKey) return;
    this.#lastContext = snapshot.context;
    this.#lastKey = key;

    const next = this.#compute(snapshot);
    const json = JSON.stringify(next);
    if (json === this.#stateJson) return;
    const previous = this.#state;
    this.#state = next;
    this.#stateJson = json;
    this.#emit((l) => l.state?.(next, previous));
  }

  #compute(snapshot: SessionSnapshot): ConsoleState {
    const summary = describeSession(snapshot);
    const active = activeStateIds(
      snapshot.value as Parameters<typeof activeStateIds>[0],
      "session",
    ).filter((id) => this.#diagramIds.has(id));
    const { recovery, options } = snapshot.context;
    const pendingCode: PendingCode | null =
      summary.recovery === "verifying.askingProvider"
        ? {
          kind: recovery.trigger?.codeKind ?? "phone",
          attempt: recovery.codeAttempts + 1,
          ...(recovery.trigger?.codeKind === "picture" &&
              options.picturePath !== undefined
            ? { picturePath: options.picturePath }
            : {}),
        }
        : null;
    return {
      summary,
      active,
      pendingCode,
      canReset: summary.fatal || summary.link === "stopped" ||
        summary.recovery === "gaveUp",
      running: snapshot.status === "active" && !this.#client.closed,
    };
  }
}
