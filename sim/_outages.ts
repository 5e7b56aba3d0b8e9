/**
 * OpenD out of reach: refusing new API clients for a while, and restarting
 * (every client dropped, every port shut, then listening and logging in
 * again). Both ports ask {@link _Outages.admission} before taking a client.
 * @module
 */
import { ProgramStatusType } from "../codec/definitions.ts";
import type { _Admission, _Connections } from "./_connections.ts";
import type { _EventLog } from "./_event_log.ts";
import type { _Gateway } from "./_gateway.ts";
import type { _Listeners } from "./_listeners.ts";
import type { _OpsPort } from "./_ops_port.ts";
import type { RefuseMode } from "./events.ts";

/** Refusals and restarts, and what they mean for a new client. */
export class _Outages {
  readonly #events: _EventLog;
  readonly #listeners: _Listeners;
  readonly #connections: _Connections;
  readonly #ops: _OpsPort;
  readonly #gateway: _Gateway;
  #acceptAndClose = false;
  #restarting = false;
  #refuseTimer: ReturnType<typeof setTimeout> | undefined;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    events: _EventLog,
    listeners: _Listeners,
    connections: _Connections,
    ops: _OpsPort,
    gateway: _Gateway,
  ) {
    this.#events = events;
    this.#listeners = listeners;
    this.#connections = connections;
    this.#ops = ops;
    this.#gateway = gateway;
  }

  /** What a port does with a client arriving now. */
  admission(): _Admission {
    if (this.#events.closed || this.#restarting) return "drop";
    return this.#acceptAndClose ? "refuse" : "accept";
  }

  /** The work of {@link OpenDSimulator.refuseConnections}. */
  refuse(ms: number, mode: RefuseMode): void {
    if (this.#events.closed || this.#restarting) return;
    if (this.#refuseTimer !== undefined) clearTimeout(this.#refuseTimer);
    this.#events.record({ type: "refusing", ms, mode });
    if (mode === "accept-and-close") {
      this.#acceptAndClose = true;
    } else {
      this.#acceptAndClose = false;
      this.#listeners.close("api");
      this.#listeners.close("ws");
    }
    this.#refuseTimer = setTimeout(() => {
      this.#refuseTimer = undefined;
      this.#acceptAndClose = false;
      void Promise.all([
        this.#listeners.reopen("api"),
        this.#listeners.reopen("ws"),
      ]).then(([api, ws]) => {
        const ok = api && ws;
        if (ok) this.#events.record({ type: "accepting" });
      });
    }, ms);
  }

  /** The work of {@link OpenDSimulator.restart}. */
  restart(downMs: number): void {
    if (this.#events.closed) return;
    this.#restarting = true;
    this.#gateway.cancelLogin();
    this.dispose();
    this.#acceptAndClose = false;
    this.#events.record({ type: "restarting", downMs });
    this.#connections.dropAll("OpenD restarting");
    this.#ops.endAll("OpenD restarting");
    this.#listeners.close("api");
    this.#listeners.close("ops");
    this.#listeners.close("ws");
    this.#gateway.setStatus(ProgramStatusType.None);
    this.#restartTimer = setTimeout(async () => {
      this.#restartTimer = undefined;
      const listeners = this.#listeners;
      const ok = await listeners.reopen("api") &&
        await listeners.reopen("ops") && await listeners.reopen("ws");
      if (!ok || this.#events.closed) return;
      this.#restarting = false;
      this.#events.record({ type: "restarted" });
      this.#gateway.beginLogin();
    }, downMs);
  }

  /** Clears the refusal's and the restart's timers. */
  dispose(): void {
    if (this.#refuseTimer !== undefined) clearTimeout(this.#refuseTimer);
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    this.#refuseTimer = undefined;
    this.#restartTimer = undefined;
  }
}
