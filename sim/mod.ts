/**
 * A scriptable OpenD simulator on loopback that speaks the real wire
 * protocol (InitConnect with RSA and AES, KeepAlive, GetGlobalState,
 * Verification, Notify pushes), OpenD's WebSocket port for the official
 * JavaScript SDK (optional, `wsPort`) and its operations (telnet) port, with
 * fault controls and scenarios as data. Use it to test a bot's reactions
 * offline, or point any OpenD SDK at `deno task sim`.
 *
 * Runs in Deno and Node (>= 20): it uses `node:net`, `node:http(s)`,
 * `node:crypto` and, for the WebSocket port only, the `ws` package.
 *
 * @example
 * ```ts
 * import { startSimulator } from "./mod.ts";
 * await using sim = await startSimulator({ phoneCode: "123456" });
 * console.log(sim.address); // { host: "127.0.0.1", port: ..., opsPort: ... }
 * sim.requireVerification("phone"); // GtwEvent + status NeedPhoneVerifyCode
 * sim.forceLogout(); // GtwEvent KickedOut, status ForceLogout, drop every API connection
 * const run = sim.runScenario("flaky-network", { timeScale: 0.1 });
 * await run.done;
 * ```
 * @module
 */
export {
  DEFAULT_RATE_LIMITS,
  OpenDSimulator,
  type RateLimit,
  runScenario,
  type SimAccountChange,
  type SimAddress,
  type SimConnectionInfo,
  type SimRateLimits,
  type SimulatorOptions,
  startSimulator,
  type WaitForOptions,
  type WsTlsOptions,
} from "./simulator.ts";
export {
  describeSimEvent,
  formatSimEvent,
  type RefuseMode,
  type SimCodeType,
  type SimEncryption,
  type SimEvent,
  type SimEventBody,
  type SimEventOf,
  type SimEventType,
  type SimVia,
  WS_FAULTS,
  type WsFault,
  type WsKeyRefusal,
} from "./events.ts";
export {
  type GtwEventInput,
  type RunScenarioOptions,
  type ScenarioAction,
  type ScenarioActionName,
  type ScenarioRun,
  type ScenarioStep,
  type StatusInput,
  validateScenario,
} from "./scenario.ts";
export {
  DEFAULT_NEW_PASSWORD,
  isScenarioName,
  namedScenario,
  type NamedScenarioOptions,
  SCENARIO_NAMES,
  type ScenarioName,
} from "./scenarios.ts";
