/**
 * The gateway's side of OpenD: the program status, the broker account
 * (password, ban, device lock), logging in and the verification codes,
 * with OpenD's rate limits. Every status change is pushed to the clients
 * (ProgramStatus notification) and recorded.
 * @module
 */
import {
  GtwEventType,
  ProgramStatusType,
  VerificationOp,
  VerificationType,
} from "../codec/definitions.ts";
import type { ProgramStatus } from "../codec/messages.ts";
import {
  gtwEventNotification,
  type NotificationInput,
  programStatusNotification,
} from "../codec/notify.ts";
import {
  OPS_RATE_LIMITS,
  type RateLimit,
  SlidingWindowLimiter,
} from "../codec/ops_rate_limits.ts";
import type { SimCodeType, SimVia } from "./events.ts";
import type { _EventLog } from "./_event_log.ts";

/** The rate limits the simulator enforces (OpenD's documented ones by default). */
export interface SimRateLimits {
  /** Phone code requests, API and ops port together (default 1 per 60 s). */
  phoneCodeRequest: RateLimit;
  /** Picture refresh requests (default 10 per 60 s). */
  picCodeRequest: RateLimit;
  /** Code submissions of either kind (default 10 per 60 s). */
  codeInput: RateLimit;
  /** `relogin` commands (default 10 per hour). */
  relogin: RateLimit;
}

/** Defaults of {@link SimRateLimits}. */
export const DEFAULT_RATE_LIMITS: Readonly<SimRateLimits> = OPS_RATE_LIMITS;

/** A change to the simulated broker account. */
export interface SimAccountChange {
  /** The account's new password (OpenD keeps the old one until a relogin gives it). */
  password?: string;
  /** Banned accounts cannot log in. */
  banned?: boolean;
  /** With device lock on, the next login needs a phone code. */
  deviceLock?: boolean;
}

/** A command's outcome: on success, `then` runs after the reply is written. */
export type _Verdict = { ok: true; then?: () => void } | {
  ok: false;
  reason: string;
};

/** The broker account as OpenD sees it. Passwords are never recorded. */
export interface _Account {
  /** The broker's password; undefined: any password is accepted. */
  password: string | undefined;
  /** The password OpenD logs in with (stale after a change until a relogin). */
  stored: string | undefined;
  /** Banned accounts cannot log in. */
  banned: boolean;
  /** The next login needs a phone code. */
  deviceLock: boolean;
}

/** What the gateway starts from (resolved options). */
export interface _GatewaySettings {
  /** Initial program status. */
  programStatus: ProgramStatus;
  /** The account's password, if checked. */
  loginPassword: string | undefined;
  /** The phone code accepted. */
  phoneCode: string;
  /** The picture code accepted. */
  pictureCode: string;
  /** How long Loging lasts. */
  loginDelayMs: number;
  /** The limits enforced. */
  rateLimits: SimRateLimits;
}

/** "too frequent" with the seconds to wait, as OpenD words it. */
export function _tooFrequent(retryInMs: number): string {
  return `too frequent, try again in ${
    Math.max(1, Math.ceil(retryInMs / 1000))
  } s`;
}

/** The program status, the account, logging in and the codes. */
export class _Gateway {
  /** The account; the ops port's `relogin` reads and updates it. */
  readonly account: _Account;
  /** One limiter per limited operation. */
  readonly limits: {
    readonly phone: SlidingWindowLimiter;
    readonly pic: SlidingWindowLimiter;
    readonly input: SlidingWindowLimiter;
    readonly relogin: SlidingWindowLimiter;
  };

  readonly #events: _EventLog;
  readonly #push: (notification: NotificationInput) => number;
  readonly #phoneCode: string;
  readonly #pictureCode: string;
  readonly #loginDelayMs: number;
  #status: ProgramStatus;
  #loginTimer: ReturnType<typeof setTimeout> | undefined;

  /** `push` sends a notification to the clients (the shared fan-out). */
  constructor(
    settings: _GatewaySettings,
    events: _EventLog,
    push: (notification: NotificationInput) => number,
  ) {
    this.#events = events;
    this.#push = push;
    this.#status = settings.programStatus;
    this.#phoneCode = settings.phoneCode;
    this.#pictureCode = settings.pictureCode;
    this.#loginDelayMs = settings.loginDelayMs;
    this.account = {
      password: settings.loginPassword,
      stored: settings.loginPassword,
      banned: false,
      deviceLock: false,
    };
    const limits = settings.rateLimits;
    this.limits = {
      phone: new SlidingWindowLimiter(limits.phoneCodeRequest),
      pic: new SlidingWindowLimiter(limits.picCodeRequest),
      input: new SlidingWindowLimiter(limits.codeInput),
      relogin: new SlidingWindowLimiter(limits.relogin),
    };
  }

  /** The current status (the gateway's own object: copy it to hand it out). */
  get status(): Readonly<ProgramStatus> {
    return this.#status;
  }

  /** Sets the status, records it and pushes a ProgramStatus notification. */
  setStatus(type: number, strExtDesc?: string): void {
    const previous = this.#status.type;
    this.#status = strExtDesc === undefined ? { type } : { type, strExtDesc };
    this.#events.record({
      type: "statusChanged",
      status: type,
      ...(strExtDesc === undefined ? {} : { strExtDesc }),
      previous,
    });
    this.#push(programStatusNotification(type, strExtDesc));
  }

  /** Pushes a GtwEvent notification; returns how many connections got it. */
  pushGtwEvent(eventType: number, desc = ""): number {
    return this.#push(gtwEventNotification(eventType, desc));
  }

  /** A failed login: the status becomes LoginFailed, after `gtwEvent` if given. */
  loginFailed(reason: string, gtwEvent?: number): void {
    this.cancelLogin();
    if (gtwEvent !== undefined) this.pushGtwEvent(gtwEvent, reason);
    this.setStatus(ProgramStatusType.LoginFailed, reason);
  }

  /** Stops a login in progress (its outcome never comes). */
  cancelLogin(): void {
    if (this.#loginTimer !== undefined) clearTimeout(this.#loginTimer);
    this.#loginTimer = undefined;
  }

  /** Loging now; after `loginDelayMs`, whatever the account allows. */
  beginLogin(): void {
    this.cancelLogin();
    this.setStatus(ProgramStatusType.Loging);
    this.#loginTimer = setTimeout(() => {
      this.#loginTimer = undefined;
      if (this.#events.closed) return;
      const account = this.account;
      if (account.banned) {
        this.loginFailed("account banned", GtwEventType.BanLogin);
      } else if (
        account.password !== undefined && account.stored !== account.password
      ) {
        this.loginFailed("password error", GtwEventType.LoginFailed);
      } else if (account.deviceLock) {
        this.requireVerification("phone");
      } else {
        this.setStatus(ProgramStatusType.Ready);
      }
    }, this.#loginDelayMs);
  }

  /** GtwEvent NeedPhoneVerifyCode (or NeedPicVerifyCode) and the matching status. */
  requireVerification(codeType: SimCodeType, desc?: string): void {
    if (this.#events.closed) return;
    this.cancelLogin();
    const phone = codeType === "phone";
    const text = desc ??
      (phone
        ? "phone verification code needed"
        : "picture verification code needed");
    this.pushGtwEvent(
      phone ? GtwEventType.NeedPhoneVerifyCode : GtwEventType.NeedPicVerifyCode,
      text,
    );
    this.setStatus(
      phone
        ? ProgramStatusType.NeedPhoneVerifyCode
        : ProgramStatusType.NeedPicVerifyCode,
      text,
    );
  }

  /** Changes the account (see {@link SimAccountChange}) and records what changed. */
  setAccount(change: SimAccountChange): void {
    const account = this.account;
    if (change.password !== undefined) account.password = change.password;
    if (change.banned !== undefined) account.banned = change.banned;
    if (change.deviceLock !== undefined) {
      account.deviceLock = change.deviceLock;
    }
    this.#events.record({
      type: "accountChanged",
      passwordChanged: change.password !== undefined,
      banned: account.banned,
      deviceLock: account.deviceLock,
    });
  }

  /**
   * A code request or submission, from the API (Verification 1006) or the
   * ops port. A right code logs in again once the reply is out.
   */
  verification(
    via: SimVia,
    type: number,
    op: number,
    code?: string,
  ): _Verdict {
    if (type !== VerificationType.Phone && type !== VerificationType.Picture) {
      return { ok: false, reason: `unknown verification type ${type}` };
    }
    const codeType: SimCodeType = type === VerificationType.Phone
      ? "phone"
      : "picture";
    const needed = codeType === "phone"
      ? ProgramStatusType.NeedPhoneVerifyCode
      : ProgramStatusType.NeedPicVerifyCode;
    const notNeeded = `no ${codeType} verification code is needed now`;
    const now = Date.now();
    if (op === VerificationOp.Request) {
      let reason: string | undefined;
      if (this.#status.type !== needed) reason = notNeeded;
      else {
        const verdict = (codeType === "phone" ? this.limits.phone : this.limits
          .pic).take(now);
        if (!verdict.ok) reason = _tooFrequent(verdict.retryInMs);
      }
      this.#events.record({
        type: "verificationRequested",
        via,
        codeType,
        ok: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
      });
      return reason === undefined ? { ok: true } : { ok: false, reason };
    }
    if (op !== VerificationOp.InputAndLogin) {
      return { ok: false, reason: `unknown verification op ${op}` };
    }
    const reject = (reason: string): _Verdict => {
      this.#events.record({ type: "codeRejected", via, codeType, reason });
      return { ok: false, reason };
    };
    if (code === undefined || code === "") return reject("missing code");
    const verdict = this.limits.input.take(now);
    if (!verdict.ok) return reject(_tooFrequent(verdict.retryInMs));
    if (this.#status.type !== needed) return reject(notNeeded);
    const expected = codeType === "phone" ? this.#phoneCode : this.#pictureCode;
    if (code !== expected) return reject("verification code error");
    this.#events.record({ type: "codeAccepted", via, codeType });
    return {
      ok: true,
      then: () => {
        if (codeType === "phone") this.account.deviceLock = false;
        this.beginLogin();
      },
    };
  }
}
