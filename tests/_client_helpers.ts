/**
 * Helpers for the client integration tests: a simulator and a client with
 * small knobs (backoff 20..200 ms, keep-alive every 800 ms, silence 1.5 s),
 * waiting for client events, and a record of everything a client emitted.
 * @module
 */
import {
  createOpenDClient,
  type OpenDClient,
  type OpenDClientOptions,
  type SessionEventOf,
  type SessionEventType,
} from "../client/mod.ts";
import type { SessionEmitted } from "../machines/mod.ts";
import {
  type OpenDSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../sim/mod.ts";

/** Small knobs so a story plays in a second or two. */
export const FAST = {
  reconnect: { baseMs: 20, capMs: 200 },
  session: {
    silenceTimeoutMs: 1_500,
    requestTimeoutMs: 2_000,
    connectTimeoutMs: 2_000,
    closeTimeoutMs: 500,
    loginConfirmTimeoutMs: 5_000,
    reloginBaseMs: 20,
    reloginCapMs: 200,
    providerTimeoutMs: 5_000,
  },
} as const;

/** A simulator with a 1 s keep-alive interval and a 20 ms login. */
export function startSim(
  options: SimulatorOptions = {},
): Promise<OpenDSimulator> {
  return startSimulator({ keepAliveInterval: 1, loginDelayMs: 20, ...options });
}

/** Handler errors seen by clients made here (a test fails if unexpected). */
export const handlerErrors: unknown[] = [];

/** A client for `sim` (API and ops port) with {@link FAST} knobs. */
export function clientFor(
  sim: OpenDSimulator | { port: number; opsPort?: number },
  options: OpenDClientOptions = {},
): OpenDClient {
  const address = "address" in sim ? sim.address : sim;
  return createOpenDClient({
    port: address.port,
    ...(address.opsPort === undefined ? {} : { opsPort: address.opsPort }),
    onHandlerError: (error) => handlerErrors.push(error),
    ...options,
    reconnect: { ...FAST.reconnect, ...options.reconnect },
    session: { ...FAST.session, ...options.session },
  });
}

/**
 * The next event of `type` (for which `where` holds) the client emits from
 * now on. Register it before causing the event.
 */
export function nextEvent<T extends SessionEventType>(
  client: OpenDClient,
  type: T,
  where: (event: SessionEventOf<T>) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<SessionEventOf<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for "${type}" (client: ${client})`,
        ),
      );
    }, timeoutMs);
    const off = client.on(type, (event) => {
      if (!where(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Everything a client emitted, in order. */
export class EventLog {
  readonly events: SessionEmitted[] = [];
  readonly #off: () => void;

  constructor(client: OpenDClient) {
    this.#off = client.on("*", (event) => this.events.push(event));
  }

  /** The events of one type. */
  of<T extends SessionEventType>(type: T): SessionEventOf<T>[] {
    return this.events.filter((e) => e.type === type) as SessionEventOf<T>[];
  }

  /** The types, in order (notifications left out). */
  get types(): string[] {
    return this.events.map((e) => e.type).filter((t) => t !== "notification");
  }

  stop(): void {
    this.#off();
  }
}

/**
 * Waits `ms`. Only for proving that something does NOT happen (no reconnect
 * storm, no relogin) within a window; positive conditions wait for events.
 */
export function quietFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
} {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** How many API connections the simulator accepted. */
export function connectionsOpened(sim: OpenDSimulator): number {
  return sim.events.filter((e) => e.type === "connectionOpened").length;
}

/** The simulator never saw `exit` on its operations port. */
export function neverSentExit(sim: OpenDSimulator): boolean {
  return !sim.events.some((e) =>
    e.type === "opsExitRefused" ||
    (e.type === "opsCommand" && e.command === "exit")
  );
}
