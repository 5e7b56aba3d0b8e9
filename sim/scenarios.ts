/**
 * Named scenarios: the real-world stories a bot must survive, as data.
 *
 * | name | story |
 * | --- | --- |
 * | `kicked-out` | after 1 s: GtwEvent KickedOut, status ForceLogout, every API connection dropped (seen as ForceLogout after reconnecting); `relogin` brings it back |
 * | `phone-code` | after 1 s: status Loging (the broker session expired); 0.5 s later GtwEvent NeedPhoneVerifyCode and status NeedPhoneVerifyCode; waits for the code (Verification or `input_phone_verify_code`), then Loging -> Ready |
 * | `password-changed` | after 1 s: the account's password becomes `newPassword`; GtwEvent LoginPwdChanged, ForceLogout, drop; only `relogin -login_pwd=<newPassword>` (or its MD5) gets back to Ready |
 * | `device-lock` | after 1 s: device lock switched on; GtwEvent EnableDeviceLock, ForceLogout, drop; `relogin` then leads to NeedPhoneVerifyCode, the code to Ready |
 * | `banned` | after 1 s: the account is banned; GtwEvent BanLogin, status LoginFailed "account banned"; every relogin fails |
 * | `flaky-network` | drops at 2 s and 5 s; at 7 s refuses connections for 3 s and drops; drops again at 15 s |
 * | `opend-restart` | after 2 s OpenD goes down for 3 s, comes back and logs in (Loging -> Ready) |
 *
 * @example
 * ```ts
 * import { namedScenario, startSimulator } from "./mod.ts";
 * const sim = await startSimulator({ opsPort: false });
 * const run = sim.runScenario(namedScenario("kicked-out"), { name: "kicked-out", timeScale: 0.05 });
 * await run.done;
 * await sim.close();
 * ```
 * @module
 */
import type { ScenarioStep } from "./scenario.ts";

/** The names {@link namedScenario} knows. */
export const SCENARIO_NAMES = [
  "kicked-out",
  "phone-code",
  "password-changed",
  "device-lock",
  "banned",
  "flaky-network",
  "opend-restart",
] as const;

/** A named scenario. */
export type ScenarioName = typeof SCENARIO_NAMES[number];

/** Options of {@link namedScenario}. */
export interface NamedScenarioOptions {
  /** The password the account has after `password-changed` (default "new-password"). */
  newPassword?: string;
}

/** Default new password of the `password-changed` scenario. */
export const DEFAULT_NEW_PASSWORD = "new-password";

/**
 * Whether `name` is one of {@link SCENARIO_NAMES}.
 *
 * @example
 * ```ts
 * import { isScenarioName } from "./scenarios.ts";
 * isScenarioName("banned"); // true
 * ```
 */
export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

/**
 * The steps of a named scenario (a fresh array each call).
 *
 * @example
 * ```ts
 * import { namedScenario } from "./scenarios.ts";
 * namedScenario("banned").map((s) => s.action); // ["setAccount", "pushGtwEvent", "setProgramStatus"]
 * ```
 */
export function namedScenario(
  name: ScenarioName,
  options: NamedScenarioOptions = {},
): ScenarioStep[] {
  switch (name) {
    case "kicked-out":
      return [{
        afterMs: 1000,
        action: "forceLogout",
        args: {
          eventType: "KickedOut",
          desc: "the account logged in on another device",
        },
        note: "another device logs in with this account",
      }];
    case "phone-code":
      return [
        {
          afterMs: 1000,
          action: "setProgramStatus",
          args: { status: "Loging" },
          note: "the broker session expired: OpenD logs in again",
        },
        {
          afterMs: 500,
          action: "requireVerification",
          args: {
            codeType: "phone",
            desc: "a phone verification code is needed",
          },
          note: "the broker asks for an SMS code",
        },
      ];
    case "password-changed":
      return [
        {
          afterMs: 1000,
          action: "setAccount",
          args: { password: options.newPassword ?? DEFAULT_NEW_PASSWORD },
          note: "the password is changed on another device",
        },
        {
          afterMs: 0,
          action: "forceLogout",
          args: {
            eventType: "LoginPwdChanged",
            desc: "login password changed",
          },
        },
      ];
    case "device-lock":
      return [
        {
          afterMs: 1000,
          action: "setAccount",
          args: { deviceLock: true },
          note: "device lock is switched on in the app",
        },
        {
          afterMs: 0,
          action: "forceLogout",
          args: { eventType: "EnableDeviceLock", desc: "device lock enabled" },
        },
      ];
    case "banned":
      return [
        {
          afterMs: 1000,
          action: "setAccount",
          args: { banned: true },
          note: "the broker bans the account",
        },
        {
          afterMs: 0,
          action: "pushGtwEvent",
          args: { eventType: "BanLogin", desc: "account banned" },
        },
        {
          afterMs: 0,
          action: "setProgramStatus",
          args: { status: "LoginFailed", strExtDesc: "account banned" },
        },
      ];
    case "flaky-network":
      return [
        { afterMs: 2000, action: "dropAllConnections", note: "a blip" },
        { afterMs: 3000, action: "dropAllConnections", note: "another blip" },
        {
          afterMs: 2000,
          action: "refuseConnections",
          args: { ms: 3000 },
          note: "the route is down for a while",
        },
        { afterMs: 0, action: "dropAllConnections" },
        { afterMs: 8000, action: "dropAllConnections", note: "one more blip" },
      ];
    case "opend-restart":
      return [{
        afterMs: 2000,
        action: "restart",
        args: { downMs: 3000 },
        note: "OpenD is restarted",
      }];
  }
}
