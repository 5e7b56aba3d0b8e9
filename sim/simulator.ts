/**
 * A scriptable OpenD on loopback that speaks the real wire protocol.
 *
 * ## API port
 * - **InitConnect (1001)**: with `rsaPrivateKey` set, the request and the
 *   response bodies are RSA (PKCS#1 v1.5 chunks). The body encryption that
 *   follows depends on the requested `packetEncAlgo`: 2 (AES_CBC) gets an
 *   `aesCBCiv` and AES-CBC; 0 (FTAES_ECB), 1 (AES_ECB) or absent get no IV
 *   and **FTAES_ECB** (a response without an IV means FTAES_ECB to the
 *   official SDKs; standard AES_ECB cannot be told apart on the wire, so it
 *   is never granted); -1 gets plaintext. Without an RSA key everything is
 *   plaintext whatever is asked. An InitConnect that fails to decrypt or
 *   parse is answered with retType -1 **in plaintext** (the peer evidently
 *   has another key) and the connection closed.
 * - **GetGlobalState (1002)**, **KeepAlive (1004)**, **Verification (1006)**
 *   as OpenD answers them; any other protoID gets retType -1
 *   "unknown protocol". Requests other than InitConnect before InitConnect
 *   get retType -1 "InitConnect first".
 * - Responses use the request's body format and echo its protoID and
 *   serialNo. Pushes (Notify 1003, raw pushes) go only to connections whose
 *   InitConnect response was sent, Notify only to those that asked
 *   `recvNotify`, in their `pushProtoFmt`, with a simulator-wide push serialNo.
 * - A connection that sends bytes that are not a valid packet, or nothing
 *   for `idleTimeoutMs`, is closed (and the event recorded).
 *
 * ## WebSocket port (`wsPort`)
 * OpenD's second API door, used by the official JavaScript SDK: `ft-v1.0`
 * frames (codec/ws_frame.ts), InitWebSocket (cmd 1) instead of InitConnect,
 * then the same protocols answered the same way. Optional TLS (`wsTls`) and
 * key (`wsKey`); fault modes via {@link OpenDSimulator.setWebSocketFault}.
 * Its clients share the connection numbering, the pushes (always Notify,
 * never an idle timeout) and every fault control with the TCP port.
 *
 * ## Operations port
 * See {@link OpenDSimulator} for the commands and the exact reply lines.
 *
 * ## Where things live
 * This file is the public face; each concept has its own file:
 * `options.ts` (options and defaults), `_gateway.ts` (status, account,
 * login, codes), `_connections.ts` (both ports' clients and the push
 * fan-out), `_api_port.ts` (TCP, InitConnect), `_ws_port.ts` (WebSocket,
 * InitWebSocket), `_api_requests.ts` (the requests both answer),
 * `_ops_port.ts` (ops commands), `_listeners.ts` (the listening sockets),
 * `_outages.ts` (refusals and restarts), `_scenario_runner.ts` (scenarios)
 * and `_event_log.ts` (events and `waitFor`).
 * @module
 */
import {
  GtwEventType,
  ProgramStatusType,
  ProtoFmt,
} from "../codec/definitions.ts";
import type { ProgramStatus } from "../codec/messages.ts";
import type { NotificationInput } from "../codec/notify.ts";
import { _ApiPort } from "./_api_port.ts";
import { _ApiRequests } from "./_api_requests.ts";
import { _Connections, type SimConnectionInfo } from "./_connections.ts";
import { _EventLog, type WaitForOptions } from "./_event_log.ts";
import { _Gateway, type SimAccountChange } from "./_gateway.ts";
import { _Listeners, type SimAddress } from "./_listeners.ts";
import { _OpsPort } from "./_ops_port.ts";
import { _Outages } from "./_outages.ts";
import { _ScenarioRunner } from "./_scenario_runner.ts";
import { _WsPort } from "./_ws_port.ts";
import {
  _statusLabel,
  type RefuseMode,
  type SimCodeType,
  type SimEvent,
  type SimEventOf,
  type SimEventType,
  WS_FAULTS,
  type WsFault,
} from "./events.ts";
import { _resolveOptions, type SimulatorOptions } from "./options.ts";
import type {
  RunScenarioOptions,
  ScenarioRun,
  ScenarioStep,
} from "./scenario.ts";
import type { ScenarioName } from "./scenarios.ts";

export type { RateLimit } from "../codec/ops_rate_limits.ts";
export type { WsTlsOptions } from "./_ws_listener.ts";
export type { SimConnectionInfo } from "./_connections.ts";
export type { WaitForOptions } from "./_event_log.ts";
export {
  DEFAULT_RATE_LIMITS,
  type SimAccountChange,
  type SimRateLimits,
} from "./_gateway.ts";
export type { SimAddress } from "./_listeners.ts";
export type { SimulatorOptions } from "./options.ts";

// Module-private: a simulator is started by startSimulator only.
const _START: unique symbol = Symbol("start");

/**
 * A running simulated OpenD. Create it with {@link startSimulator}; always
 * {@link close} it (or `await using`).
 *
 * ## Operations port replies
 * One reply line per command, ending in CRLF, of the form
 * `<command>: OK[, detail]`, `<command>: FAILED, <reason>` or
 * `exit: REFUSED, ...`. Blank lines get no reply.
 *
 * | command | success | failures |
 * | --- | --- | --- |
 * | `req_phone_verify_code` | `req_phone_verify_code: OK, verification code sent` | `..: FAILED, no phone verification code is needed now`; `..: FAILED, too frequent, try again in N s` |
 * | `input_phone_verify_code -code=C` | `input_phone_verify_code: OK, logging in` | `..: FAILED, missing -code`; `..: FAILED, verification code error`; not needed; too frequent |
 * | `req_pic_verify_code` | `req_pic_verify_code: OK, picture verification code refreshed` | not needed; too frequent |
 * | `input_pic_verify_code -code=C` | `input_pic_verify_code: OK, logging in` | as for the phone code |
 * | `relogin [-login_pwd=P\|-login_pwd_md5=H]` | `relogin: OK, logging in` | `relogin: FAILED, password error`; `relogin: FAILED, account banned`; too frequent |
 * | `request_highest_quote_right` | `request_highest_quote_right: OK, highest quote right requested` | |
 * | `close_api_conn -conn_id=N` | `close_api_conn: OK, closed connection N` | `..: FAILED, missing -conn_id`; `..: FAILED, no API connection N` |
 * | `help` | `help: OK, commands: ...` | |
 * | `exit` | | `exit: REFUSED, this simulator does not stop on request` |
 * | anything else | | `<command>: FAILED, unknown command` |
 *
 * Passwords given to `relogin` are never recorded; a failed relogin sets
 * the status to LoginFailed (with a GtwEvent LoginFailed for a wrong
 * password). A command line longer than 4096 bytes closes the connection.
 *
 * @example
 * ```ts
 * import { startSimulator } from "./mod.ts";
 * await using sim = await startSimulator({ phoneCode: "654321", loginDelayMs: 10 });
 * console.log(sim.address); // { host: "127.0.0.1", port: 41234, opsPort: 41235 }
 * const since = sim.mark();
 * sim.requireVerification("phone"); // GtwEvent NeedPhoneVerifyCode + status NeedPhoneVerifyCode
 * // A client now submits 654321 (Verification 1006, or input_phone_verify_code on the ops port)...
 * await sim.waitFor("statusChanged", (e) => e.status === 4, { since });
 * ```
 */
export class OpenDSimulator implements AsyncDisposable {
  readonly #events: _EventLog;
  readonly #gateway: _Gateway;
  readonly #connections: _Connections;
  readonly #requests: _ApiRequests;
  readonly #wsPort: _WsPort;
  readonly #ops: _OpsPort;
  readonly #listeners: _Listeners;
  readonly #outages: _Outages;
  readonly #scenarios: _ScenarioRunner;
  #closing: Promise<void> | undefined;

  /** Use {@link startSimulator}. */
  constructor(options: SimulatorOptions = {}) {
    const settings = _resolveOptions(options);
    const events = new _EventLog(settings.sinks);
    const connections = new _Connections(events);
    const gateway = new _Gateway(
      settings.gateway,
      events,
      (notification) => connections.pushNotification(notification),
    );
    const requests = new _ApiRequests(events, gateway, settings.server);
    // Read at each accept: the outages exist by the time a client arrives.
    const admission = () => this.#outages.admission();
    const api = new _ApiPort(
      settings.api,
      events,
      connections,
      requests,
      admission,
    );
    const ws = new _WsPort(
      settings.ws,
      events,
      connections,
      requests,
      admission,
    );
    const ops = new _OpsPort(events, gateway, connections, admission);
    const listeners = new _Listeners(settings.listeners, events, {
      api: (socket) => api.accept(socket),
      ops: (socket) => ops.accept(socket),
      ws: (socket, remote) => ws.accept(socket, remote),
    });
    this.#events = events;
    this.#connections = connections;
    this.#gateway = gateway;
    this.#requests = requests;
    this.#wsPort = ws;
    this.#ops = ops;
    this.#listeners = listeners;
    this.#outages = new _Outages(
      events,
      listeners,
      connections,
      ops,
      gateway,
    );
    this.#scenarios = new _ScenarioRunner(this, events);
  }

  // ------------------------------------------------------------ observation

  /** Where it listens; ports are the real ones once started. */
  get address(): SimAddress {
    return this.#listeners.address;
  }

  /** The current program status. */
  get programStatus(): ProgramStatus {
    return { ...this.#gateway.status };
  }

  /** The recorded events, oldest first (at most `maxEvents`). */
  get events(): readonly SimEvent[] {
    return this.#events.events;
  }

  /** The open API connections. */
  get connections(): SimConnectionInfo[] {
    return this.#connections.info();
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.#events.closed;
  }

  /**
   * The `seq` the next event will get: pass it as `since` to
   * {@link waitFor} to wait only for what happens after this point.
   */
  mark(): number {
    return this.#events.nextSeq;
  }

  /**
   * Resolves with the first event (kept, or still to come) of `type` for
   * which `where` holds; rejects after `timeoutMs` or when the simulator
   * closes.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * await using sim = await startSimulator();
   * const since = sim.mark();
   * sim.setProgramStatus(11);
   * await sim.waitFor("statusChanged", (e) => e.status === 11, { since });
   * ```
   */
  waitFor<K extends SimEventType>(
    type: K,
    where?: (event: SimEventOf<K>) => boolean,
    options?: WaitForOptions,
  ): Promise<SimEventOf<K>>;
  /** Resolves with the first event for which `predicate` holds. */
  waitFor(
    predicate: (event: SimEvent) => boolean,
    options?: WaitForOptions,
  ): Promise<SimEvent>;
  waitFor(
    first: SimEventType | ((event: SimEvent) => boolean),
    second?: ((event: never) => boolean) | WaitForOptions,
    third?: WaitForOptions,
  ): Promise<SimEvent> {
    return this.#events.waitFor(first, second, third);
  }

  // ------------------------------------------------------------ fault controls

  /**
   * Sets the program status and pushes a ProgramStatus notification (also
   * when the status is the same: it is an explicit control). Cancels a
   * login in progress.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * await using sim = await startSimulator();
   * sim.setProgramStatus(8, "necessary data missing"); // NessaryDataMissing
   * ```
   */
  setProgramStatus(status: number, strExtDesc?: string): void {
    if (this.isClosed) return;
    this.#gateway.cancelLogin();
    this.#gateway.setStatus(status, strExtDesc);
  }

  /** Pushes a GtwEvent notification; returns how many connections got it. */
  pushGtwEvent(eventType: number, desc = ""): number {
    return this.#gateway.pushGtwEvent(eventType, desc);
  }

  /**
   * Pushes any Notify (1003) to every initialized connection that asked for
   * notifications, each in its pushProtoFmt. Returns how many got it.
   * Throws `CodecError` for a notification that cannot be encoded.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * import { apiQuotaNotification } from "../codec/mod.ts";
   * await using sim = await startSimulator();
   * sim.pushNotification(apiQuotaNotification(100, 1000)); // 0: nobody connected
   * ```
   */
  pushNotification(notification: NotificationInput): number {
    return this.#connections.pushNotification(notification);
  }

  /**
   * Pushes a raw packet (any protoID, e.g. a quote push 3005) with the given
   * plaintext body to every initialized connection, encrypted as each
   * connection negotiated. Returns how many got it.
   */
  pushPacket(
    protoId: number,
    body: Uint8Array,
    protoFmt: number = ProtoFmt.Protobuf,
  ): number {
    return this.#connections.pushPacket(protoId, body, protoFmt);
  }

  /**
   * OpenD asks for a verification code: pushes GtwEvent NeedPhoneVerifyCode
   * (or NeedPicVerifyCode) and switches the status to match.
   */
  requireVerification(codeType: SimCodeType, desc?: string): void {
    this.#gateway.requireVerification(codeType, desc);
  }

  /**
   * OpenD is forced to log out: pushes the GtwEvent (KickedOut by default),
   * switches the status to ForceLogout (pushed too), then drops every API
   * connection, so a client sees ForceLogout after reconnecting. Returns how
   * many connections were dropped.
   */
  forceLogout(
    eventType: number = GtwEventType.KickedOut,
    desc?: string,
  ): number {
    if (this.isClosed) return 0;
    const gateway = this.#gateway;
    gateway.cancelLogin();
    const text = desc ?? "forced to log out";
    gateway.pushGtwEvent(eventType, text);
    gateway.setStatus(ProgramStatusType.ForceLogout, text);
    return this.#connections.dropAll("force logout");
  }

  /**
   * Closes every API connection (after flushing what was written). Returns
   * how many. All of them stop at once (no more requests answered, no more
   * pushes); their sockets are ended a batch per turn of the event loop, so a
   * drop of a thousand does not block a process the clients share.
   */
  dropAllConnections(): number {
    if (this.isClosed) return 0;
    return this.#connections.dropAll("dropped by the simulator");
  }

  /**
   * Refuses new API connections for `ms`: mode "closed-port" (default)
   * closes the listener (clients get ECONNREFUSED), "accept-and-close"
   * accepts and closes at once. Open connections are kept. Resolves once
   * refusing is in effect; the event "accepting" marks the end. Calling it
   * again restarts the clock; ignored while restarting.
   */
  async refuseConnections(
    ms: number,
    mode: RefuseMode = "closed-port",
  ): Promise<void> {
    this.#outages.refuse(ms, mode);
    await Promise.resolve();
  }

  /**
   * Bends what the WebSocket port sends, to test a client's error paths;
   * `undefined` ends it. "init-error" answers InitWebSocket with an error
   * frame and closes; "init-silent" never answers it; "wrong-section" gives
   * every response a section that matches no request; "bad-sign" spoils the
   * sign of every frame; "drop-after-login" closes right after a successful
   * InitWebSocket. The TCP port is not affected.
   *
   * @example
   * ```ts
   * import { startSimulator } from "./mod.ts";
   * await using sim = await startSimulator({ wsPort: 0 });
   * sim.setWebSocketFault("init-error"); // the next SDK to connect gives up
   * sim.setWebSocketFault(undefined);
   * ```
   */
  setWebSocketFault(fault: WsFault | undefined): void {
    if (this.isClosed) return;
    if (fault !== undefined && !WS_FAULTS.includes(fault)) {
      throw new RangeError(`fault must be one of ${WS_FAULTS.join(", ")}`);
    }
    this.#wsPort.fault = fault;
    this.#events.record({ type: "webSocketFault", fault: fault ?? "off" });
  }

  /** Switches KeepAlive answering on or off (off: requests are read, never answered). */
  setKeepAliveAnswering(on: boolean): void {
    if (this.isClosed) return;
    this.#requests.keepAliveAnswering = on;
    this.#events.record({ type: "keepAliveAnswering", on });
  }

  /** Writes bytes that are not an FT packet to every API connection. Returns how many. */
  sendGarbage(): number {
    if (this.isClosed) return 0;
    return this.#connections.sendGarbage();
  }

  /**
   * Changes the simulated broker account: a new password (OpenD's stored one
   * goes stale until a relogin gives the new one), a ban, device lock.
   */
  setAccount(change: SimAccountChange): void {
    if (this.isClosed) return;
    this.#gateway.setAccount(change);
  }

  /**
   * OpenD restarts: every API and ops connection is dropped and both ports
   * close for `downMs`; then it listens again and logs in (Loging, then
   * Ready, or whatever the account demands). Resolves once it is down; the
   * event "restarted" marks its return.
   */
  async restart(downMs: number): Promise<void> {
    this.#outages.restart(downMs);
    await Promise.resolve();
  }

  /**
   * Plays scenario steps (or a named scenario) with real timers; cancelled
   * when the simulator closes. See {@link runScenario}.
   */
  runScenario(
    scenario: ScenarioName | readonly ScenarioStep[],
    options: RunScenarioOptions = {},
  ): ScenarioRun {
    return this.#scenarios.run(scenario, options);
  }

  /**
   * Stops everything: listeners, every socket, every timer, running
   * scenarios; pending {@link waitFor} calls reject. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Same as {@link close}. */
  stop(): Promise<void> {
    return this.close();
  }

  /** `await using sim = await startSimulator()` closes it at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A one-line summary without secrets. */
  toString(): string {
    const { host, port, opsPort, wsPort, wsTls } = this.address;
    const ops = opsPort === undefined ? "off" : String(opsPort);
    const ws = wsPort === undefined
      ? ""
      : `, ${wsTls ? "wss" : "ws"}: ${wsPort}`;
    return `OpenDSimulator { api: ${host}:${port}, ops: ${ops}${ws}, status: ${
      _statusLabel(this.#gateway.status.type)
    }, connections: ${this.#connections.size}, closed: ${this.isClosed} }`;
  }

  /** Deno's inspect form: see {@link toString}. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's inspect form: see {@link toString}. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ------------------------------------------------------------ lifecycle

  /** Opens the listeners; only {@link startSimulator} can call it. */
  async [_START](
    scenario?: ScenarioName | readonly ScenarioStep[],
    timeScale?: number,
  ): Promise<void> {
    try {
      await this.#listeners.open();
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#events.record({ type: "listening", ...this.address });
    if (scenario !== undefined) this.runScenario(scenario, { timeScale });
  }

  async #shutdown(): Promise<void> {
    const events = this.#events;
    events.closed = true;
    this.#scenarios.cancelAll();
    this.#gateway.cancelLogin();
    this.#outages.dispose();
    const pending: Promise<void>[] = [
      ...this.#listeners.closeAll(),
      ...this.#connections.destroyAll("simulator closed"),
      ...this.#ops.destroyAll("simulator closed"),
    ];
    await Promise.all(pending);
    // Emitted while the waiters are still there, so a waiter for "closed" resolves.
    events.emit({ type: "closed" });
    events.rejectWaiters();
  }
}

/**
 * Starts a simulated OpenD: listens on the API port and (unless `opsPort`
 * is `false`) the operations port, then runs `options.scenario` if given.
 * Rejects when a port cannot be opened.
 *
 * @example
 * ```ts
 * import { startSimulator } from "./mod.ts";
 * const sim = await startSimulator({ log: console.log });
 * const { port, opsPort } = sim.address;
 * // point a client at 127.0.0.1:port ...
 * sim.forceLogout(); // GtwEvent KickedOut, status ForceLogout, drop
 * await sim.close();
 * ```
 */
export async function startSimulator(
  options: SimulatorOptions = {},
): Promise<OpenDSimulator> {
  const sim = new OpenDSimulator(options);
  await sim[_START](options.scenario, options.scenarioTimeScale);
  return sim;
}

/**
 * Plays `steps` on `sim` with real timers. The simulator cancels the run
 * when it closes, so no timer outlives it. Throws `TypeError` up front for
 * a malformed step (see {@link validateScenario}).
 *
 * @example
 * ```ts
 * import { runScenario, startSimulator } from "./mod.ts";
 * const sim = await startSimulator({ opsPort: false });
 * const run = runScenario(sim, [
 *   { afterMs: 50, action: "pushGtwEvent", args: { eventType: "KickedOut" } },
 *   { afterMs: 0, action: "dropAllConnections" },
 * ], { timeScale: 0.5 });
 * await run.done; // "completed"
 * await sim.close();
 * ```
 */
export function runScenario(
  sim: OpenDSimulator,
  steps: readonly ScenarioStep[],
  options: RunScenarioOptions = {},
): ScenarioRun {
  return sim.runScenario(steps, options);
}
