/**
 * The reaction policy: for every GtwEventType, the program status it implies
 * and what the session supervisor does about it; for every ProgramStatusType
 * seen without an explaining event (for example after a reconnect, through
 * GetGlobalState), what to do about that status.
 *
 * It is data, so a deployment can change a reaction without touching a
 * machine: see {@link definePolicy}.
 * @module
 */
import {
  GtwEventType,
  type GtwEventTypeName,
  nameOf,
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";

/**
 * What the supervisor does about a gateway event or status.
 *
 * - `record`: remember it, nothing else.
 * - `notify`: tell the user once (`needsPerson`), keep everything running.
 * - `park`: tell the user once and wait; do not fight (for example another
 *   login kicked this one out).
 * - `verifyCode`: get a verification code (phone codes are requested first,
 *   rate-limited), ask the code provider, submit it, wait for login.
 * - `relogin`: relogin through OpenD's operations port now.
 * - `reloginAfterCooldown`: wait `cooldownMs`, then relogin.
 * - `reloginWithBackoff`: relogin after an exponential backoff, a bounded
 *   number of times.
 * - `fatal`: stop every loop, say why once, stay stopped until `RESET`.
 */
export type Reaction =
  | "record"
  | "notify"
  | "park"
  | "verifyCode"
  | "relogin"
  | "reloginAfterCooldown"
  | "reloginWithBackoff"
  | "fatal";

/** Every {@link Reaction}, for validation and for tests. */
export const REACTIONS: readonly Reaction[] = Object.freeze([
  "record",
  "notify",
  "park",
  "verifyCode",
  "relogin",
  "reloginAfterCooldown",
  "reloginWithBackoff",
  "fatal",
]);

/** The kind of verification code OpenD asks for. */
export type CodeKind = "phone" | "picture";

/** How to react to one status or event. */
export interface Rule {
  /** What to do. */
  readonly reaction: Reaction;
  /** For `verifyCode`: which code. */
  readonly codeKind?: CodeKind;
  /** For `reloginAfterCooldown`: how long to wait first. */
  readonly cooldownMs?: number;
  /**
   * For the relogin reactions: ask the credentials provider for a password
   * first, and stop with a clear reason when it has none.
   */
  readonly askCredentials?: boolean;
  /** A sentence for people: what happened and what it means. */
  readonly summary: string;
}

/** How to react to one GtwEventType. */
export interface GtwEventRule extends Rule {
  /** The program status this event implies, `null` when none. */
  readonly impliedStatus: ProgramStatusTypeName | null;
  /** The event means trading is locked until it is unlocked again. */
  readonly locksTrading?: boolean;
}

/** The whole policy: one rule per GtwEventType and per ProgramStatusType. */
export interface Policy {
  /** One rule per GtwEventType name. */
  readonly gtwEvents: Readonly<Record<GtwEventTypeName, GtwEventRule>>;
  /** One rule per ProgramStatusType name, for statuses seen without an explaining event. */
  readonly statuses: Readonly<Record<ProgramStatusTypeName, Rule>>;
}

const FIVE_MINUTES = 300_000;

/**
 * The default policy, the table in DESIGN.md ("Default reaction policy").
 *
 * @example
 * ```ts
 * import { defaultPolicy } from "./policy.ts";
 * defaultPolicy.gtwEvents.KickedOut.reaction; // "park"
 * defaultPolicy.gtwEvents.BanLogin.impliedStatus; // "LoginFailed"
 * ```
 */
export const defaultPolicy: Policy = deepFreeze({
  gtwEvents: {
    None: {
      impliedStatus: null,
      reaction: "record",
      summary: "no event",
    },
    LocalCfgLoadFailed: {
      impliedStatus: null,
      reaction: "fatal",
      summary: "OpenD could not load its local configuration",
    },
    APISvrRunFailed: {
      impliedStatus: null,
      reaction: "fatal",
      summary: "OpenD's API server failed to run",
    },
    ForceUpdate: {
      impliedStatus: "ForceUpdate",
      reaction: "fatal",
      summary: "OpenD must be upgraded",
    },
    LoginFailed: {
      impliedStatus: "LoginFailed",
      reaction: "reloginWithBackoff",
      summary: "login failed",
    },
    UnAgreeDisclaimer: {
      impliedStatus: "UnAgreeDisclaimer",
      reaction: "park",
      summary: "the disclaimer must be agreed to by a person",
    },
    NetCfgMissing: {
      impliedStatus: null,
      reaction: "record",
      summary: "network configuration missing",
    },
    KickedOut: {
      impliedStatus: "ForceLogout",
      reaction: "park",
      summary: "another login kicked this one out",
    },
    LoginPwdChanged: {
      impliedStatus: "ForceLogout",
      reaction: "relogin",
      askCredentials: true,
      summary: "the login password changed",
    },
    BanLogin: {
      impliedStatus: "LoginFailed",
      reaction: "fatal",
      summary: "this account is banned from logging in",
    },
    NeedPicVerifyCode: {
      impliedStatus: "NeedPicVerifyCode",
      reaction: "verifyCode",
      codeKind: "picture",
      summary: "OpenD needs a picture verification code",
    },
    NeedPhoneVerifyCode: {
      impliedStatus: "NeedPhoneVerifyCode",
      reaction: "verifyCode",
      codeKind: "phone",
      summary: "OpenD needs a phone verification code",
    },
    AppDataNotExist: {
      impliedStatus: null,
      reaction: "fatal",
      summary: "OpenD's application data does not exist",
    },
    NessaryDataMissing: {
      impliedStatus: "NessaryDataMissing",
      reaction: "reloginAfterCooldown",
      cooldownMs: FIVE_MINUTES,
      summary: "necessary data is missing",
    },
    TradePwdChanged: {
      impliedStatus: null,
      reaction: "notify",
      locksTrading: true,
      summary: "the trade password changed: trading must be unlocked again",
    },
    EnableDeviceLock: {
      impliedStatus: "ForceLogout",
      reaction: "relogin",
      summary: "device lock was enabled: relogin, expect a phone code",
    },
  },
  statuses: {
    None: { reaction: "record", summary: "OpenD has no status yet" },
    Loaded: { reaction: "record", summary: "OpenD loaded" },
    Loging: { reaction: "record", summary: "OpenD is logging in" },
    NeedPicVerifyCode: {
      reaction: "verifyCode",
      codeKind: "picture",
      summary: "OpenD needs a picture verification code",
    },
    NeedPhoneVerifyCode: {
      reaction: "verifyCode",
      codeKind: "phone",
      summary: "OpenD needs a phone verification code",
    },
    LoginFailed: {
      reaction: "reloginWithBackoff",
      summary: "login failed",
    },
    ForceUpdate: { reaction: "fatal", summary: "OpenD must be upgraded" },
    NessaryDataPreparing: {
      reaction: "record",
      summary: "OpenD is preparing necessary data",
    },
    NessaryDataMissing: {
      reaction: "reloginAfterCooldown",
      cooldownMs: FIVE_MINUTES,
      summary: "necessary data is missing",
    },
    UnAgreeDisclaimer: {
      reaction: "park",
      summary: "the disclaimer must be agreed to by a person",
    },
    Ready: { reaction: "record", summary: "OpenD is ready" },
    ForceLogout: {
      reaction: "park",
      summary: "OpenD was forced to log out",
    },
    DisclaimerPullFailed: {
      reaction: "park",
      summary: "OpenD could not fetch the disclaimer",
    },
  },
});

/** Changes to one rule: any field may be replaced. */
export type RuleOverride = Partial<Rule>;
/** Changes to one GtwEvent rule. */
export type GtwEventRuleOverride = Partial<GtwEventRule>;

/**
 * Changes to a policy: GtwEventType names at the top level, ProgramStatusType
 * names under `statuses`.
 */
export type PolicyOverrides =
  & { readonly [K in GtwEventTypeName]?: GtwEventRuleOverride }
  & {
    readonly statuses?: {
      readonly [K in ProgramStatusTypeName]?: RuleOverride;
    };
  };

/**
 * A policy: `base` (the default policy unless given) with `overrides` applied,
 * validated and frozen. A mistake in the overrides (an unknown name, a
 * reaction that lacks what it needs) throws here, at configuration time,
 * rather than misbehaving at 3 a.m.
 *
 * @example
 * ```ts
 * import { definePolicy } from "./policy.ts";
 * // Fight back after being kicked out, but only after five minutes.
 * const policy = definePolicy({
 *   KickedOut: { reaction: "reloginAfterCooldown", cooldownMs: 300_000 },
 * });
 * policy.gtwEvents.KickedOut.reaction; // "reloginAfterCooldown"
 * ```
 */
export function definePolicy(
  overrides: PolicyOverrides,
  base: Policy = defaultPolicy,
): Policy {
  const gtwEvents: Record<string, GtwEventRule> = { ...base.gtwEvents };
  const statuses: Record<string, Rule> = { ...base.statuses };
  for (const [name, override] of Object.entries(overrides)) {
    if (name === "statuses") continue;
    if (!(name in GtwEventType)) {
      throw new TypeError(`definePolicy: unknown GtwEventType "${name}"`);
    }
    gtwEvents[name] = validRule(
      `GtwEventType ${name}`,
      { ...gtwEvents[name], ...override as GtwEventRuleOverride },
    ) as GtwEventRule;
  }
  for (const [name, override] of Object.entries(overrides.statuses ?? {})) {
    if (!(name in ProgramStatusType)) {
      throw new TypeError(`definePolicy: unknown ProgramStatusType "${name}"`);
    }
    statuses[name] = validRule(`ProgramStatusType ${name}`, {
      ...statuses[name],
      ...override,
    });
  }
  return deepFreeze({
    gtwEvents: gtwEvents as Policy["gtwEvents"],
    statuses: statuses as Policy["statuses"],
  });
}

function validRule(where: string, rule: Rule & Partial<GtwEventRule>): Rule {
  const fail = (why: string): never => {
    throw new TypeError(`definePolicy: ${where}: ${why}`);
  };
  if (!REACTIONS.includes(rule.reaction)) {
    fail(`unknown reaction "${rule.reaction}"`);
  }
  if (
    rule.impliedStatus !== undefined && rule.impliedStatus !== null &&
    !(rule.impliedStatus in ProgramStatusType)
  ) {
    fail(`unknown impliedStatus "${rule.impliedStatus}"`);
  }
  if (
    rule.reaction === "verifyCode" && rule.codeKind !== "phone" &&
    rule.codeKind !== "picture"
  ) {
    fail('"verifyCode" needs codeKind "phone" or "picture"');
  }
  if (rule.reaction === "reloginAfterCooldown") {
    const ms = rule.cooldownMs ?? FIVE_MINUTES;
    if (!Number.isFinite(ms) || ms < 0) {
      fail("cooldownMs must be a finite number of milliseconds >= 0");
    }
    return { ...rule, cooldownMs: ms };
  }
  return rule;
}

/** The rule for a GtwEventType number, `undefined` when the policy has none. */
export function gtwEventRule(
  policy: Policy,
  eventType: number,
): GtwEventRule | undefined {
  const name = nameOf(GtwEventType, eventType);
  return name === undefined ? undefined : policy.gtwEvents[name];
}

/** The rule for a ProgramStatusType number, `undefined` when unknown. */
export function statusRule(
  policy: Policy,
  status: number,
): Rule | undefined {
  const name = nameOf(ProgramStatusType, status);
  return name === undefined ? undefined : policy.statuses[name];
}

/**
 * The ProgramStatusType number a GtwEventType implies under `policy`, or
 * `undefined` when it implies none (or the event is unknown).
 */
export function impliedStatusOf(
  policy: Policy,
  eventType: number,
): number | undefined {
  const implied = gtwEventRule(policy, eventType)?.impliedStatus;
  return implied ? ProgramStatusType[implied] : undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
