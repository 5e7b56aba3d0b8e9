/**
 * Test harness for the machines: a manual clock that XState schedules its
 * delays on, and a scriptable fake OpenD that provides every session actor.
 * Nothing here sleeps or leaves a real timer behind.
 * @module
 */
import { type Actor, createActor, fromCallback, fromPromise } from "xstate";
import { ProgramStatusType } from "../codec/definitions.ts";
import type { SystemNotification } from "../codec/system_notification.ts";
import {
  type CodeProviderInput,
  type ConnectionInput,
  type Credentials,
  credentialsFrom,
  type defaultSessionActors,
  type GetGlobalStateOutput,
  type InitConnectInput,
  type InitConnectOutput,
  type LinkEvent,
  type LinkInput,
  type ReloginInput,
  type RequestCodeInput,
  type SessionEmitted,
  type SessionInput,
  sessionMachine,
  type SubmitCodeInput,
} from "../machines/mod.ts";

/** Lets pending promise callbacks (actor results) run. No timers involved. */
export async function settle(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A clock XState can use (`createActor(machine, { clock })`) whose time only
 * moves when a test says so. Unlike advancing in one jump, `advance` fires
 * timers one deadline at a time and lets promises settle in between, so a
 * timer started by a reaction to an earlier timer is measured from the right
 * moment.
 */
export class ManualClock {
  #now = 0;
  #nextId = 1;
  #timers = new Map<number, Timer>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, timeout), fn });
    return id;
  }

  clearTimeout(id: number): void {
    this.#timers.delete(id);
  }

  /** Pending timers, for assertions that nothing is left running. */
  get pending(): number {
    return this.#timers.size;
  }

  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const next = [...this.#timers.values()]
        .filter((timer) => timer.due <= end)
        .sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = next.due;
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** A link the supervisor opened to the fake OpenD. */
interface FakeLink {
  readonly sendBack: (event: LinkEvent) => void;
  closed: boolean;
}

/**
 * A fake OpenD with knobs for each behaviour the scenarios need, and a log of
 * every call the supervisor made, stamped with the manual clock's time.
 */
export class FakeOpenD {
  /** Accepting TCP connections. */
  up = true;
  /** What GetGlobalState reports. */
  status: number = ProgramStatusType.Ready;
  keepAliveIntervalS = 10;
  initConnect: "answers" | "hangs" | "fails" = "answers";
  /** KeepAlive is answered (a whole packet arrives); otherwise it hangs. */
  answersKeepAlive = true;
  correctCode = "123456";
  /** What the code provider answers, in order; empty: it never answers. */
  codeAnswers: string[] = [];
  /**
   * How OpenD answers the next requests for a code (then `ok` for good):
   * `tooFrequent` fails with a wait (FailureHints.retryAfterMs).
   */
  requestAnswers: ("ok" | "tooFrequent" | "fails")[] = [];
  /** Likewise for submitted codes, before the code is checked. */
  submitAnswers: ("ok" | "tooFrequent")[] = [];
  /** Questions to the code provider not yet answered nor given up. */
  pendingQuestions = 0;
  /** The most questions ever pending at once. */
  maxPendingQuestions = 0;
  /** What the credentials provider answers. */
  credentials: Credentials | undefined = undefined;
  /** Relogin outcome; on success OpenD reports `statusAfterRelogin`. */
  relogin: "succeeds" | "fails" = "succeeds";
  statusAfterRelogin: number = ProgramStatusType.Ready;
  /** Called whenever OpenD reports Ready (push or GetGlobalState). */
  onReady: () => void = () => {};

  readonly log = {
    linksOpened: [] as number[],
    initConnect: [] as number[],
    getGlobalState: [] as number[],
    keepAlive: [] as number[],
    closeLink: [] as number[],
    requestCode: [] as { kind: string; at: number }[],
    submitCode: [] as { kind: string; code: string; at: number }[],
    codeProvider: [] as (CodeProviderInput & { at: number })[],
    credentialsAsked: [] as number[],
    relogin: [] as (ReloginInput & { at: number })[],
  };

  #links: FakeLink[] = [];

  constructor(readonly clock: ManualClock) {}

  get openLinks(): number {
    return this.#links.filter((link) => !link.closed).length;
  }

  /** OpenD drops the current API connection. */
  dropLink(reason = "connection reset by peer"): void {
    for (const link of this.#links) {
      if (!link.closed) {
        link.closed = true;
        link.sendBack({ type: "LINK_DOWN", reason });
      }
    }
  }

  /** OpenD pushes a Notify over every open link. */
  push(notification: SystemNotification): void {
    for (const link of this.#links) {
      if (!link.closed) {
        link.sendBack({ type: "PACKET_RECEIVED" });
        link.sendBack({ type: "NOTIFICATION", notification });
      }
    }
  }

  /** OpenD reports what follows a reply a moment after it. */
  later(what: () => void, ms = 100): void {
    this.clock.setTimeout(what, ms);
  }

  /** OpenD's status changes, and it says so to open links. */
  setStatus(status: number): void {
    this.status = status;
    if (status === ProgramStatusType.Ready) this.onReady();
    this.push(statusNotification(status));
  }

  /** Every actor the supervisor needs, backed by this fake. */
  actors(): typeof defaultSessionActors {
    const now = () => this.clock.now();
    return {
      link: fromCallback<LinkEvent, LinkInput>(({ sendBack }) => {
        const link: FakeLink = { sendBack, closed: false };
        this.#links.push(link);
        this.log.linksOpened.push(now());
        const up = this.up;
        queueMicrotask(() => {
          if (link.closed) return;
          if (up) {
            sendBack({ type: "LINK_UP" });
          } else {
            link.closed = true;
            sendBack({ type: "LINK_DOWN", reason: "connection refused" });
          }
        });
        return () => {
          link.closed = true;
        };
      }),
      initConnect: fromPromise<InitConnectOutput, InitConnectInput>(() => {
        this.log.initConnect.push(now());
        if (this.initConnect === "hangs") return new Promise<never>(() => {});
        if (this.initConnect === "fails") {
          return Promise.reject(new Error("InitConnect: retType -1"));
        }
        return Promise.resolve({
          keepAliveInterval: this.keepAliveIntervalS,
          connId: 7_000_000_000_000_000_001n,
          loginUserId: 42,
          serverVer: 905,
        });
      }),
      getGlobalState: fromPromise<GetGlobalStateOutput, ConnectionInput>(() => {
        this.log.getGlobalState.push(now());
        if (this.status === ProgramStatusType.Ready) this.onReady();
        return Promise.resolve({
          programStatus: { type: this.status },
          qotLogined: this.status === ProgramStatusType.Ready,
          trdLogined: this.status === ProgramStatusType.Ready,
        });
      }),
      keepAlive: fromPromise<unknown, ConnectionInput>(() => {
        this.log.keepAlive.push(now());
        if (!this.answersKeepAlive) return new Promise<never>(() => {});
        for (const link of this.#links) {
          if (!link.closed) link.sendBack({ type: "PACKET_RECEIVED" });
        }
        return Promise.resolve({ time: Math.floor(now() / 1000) });
      }),
      closeLink: fromPromise<void, ConnectionInput>(() => {
        this.log.closeLink.push(now());
        return Promise.resolve();
      }),
      requestVerificationCode: fromPromise<unknown, RequestCodeInput>(
        ({ input }) => {
          this.log.requestCode.push({ kind: input.kind, at: now() });
          const answer = this.requestAnswers.shift() ?? "ok";
          if (answer === "tooFrequent") {
            return Promise.reject(
              Object.assign(new Error("too frequent, try again in 5 s"), {
                retryAfterMs: 5_000,
              }),
            );
          }
          if (answer === "fails") return Promise.reject(new Error("failed"));
          return Promise.resolve({});
        },
      ),
      submitVerificationCode: fromPromise<unknown, SubmitCodeInput>(
        ({ input }) => {
          // The code arrives boxed; the fake OpenD is where it is written.
          const code = input.code.reveal();
          this.log.submitCode.push({ kind: input.kind, code, at: now() });
          if (this.submitAnswers.shift() === "tooFrequent") {
            return Promise.reject(
              Object.assign(new Error("too frequent"), { retryAfterMs: 0 }),
            );
          }
          if (code !== this.correctCode) {
            return Promise.reject(new Error("verification code is wrong"));
          }
          this.later(() => {
            this.setStatus(ProgramStatusType.Loging);
            this.setStatus(ProgramStatusType.Ready);
          });
          return Promise.resolve({});
        },
      ),
      codeProvider: fromPromise<string, CodeProviderInput>(
        ({ input, signal }) => {
          this.log.codeProvider.push({ ...input, at: now() });
          this.pendingQuestions++;
          this.maxPendingQuestions = Math.max(
            this.maxPendingQuestions,
            this.pendingQuestions,
          );
          let open = true;
          const close = () => {
            if (open) this.pendingQuestions--;
            open = false;
          };
          signal.addEventListener("abort", close, { once: true });
          const answer = this.codeAnswers.shift();
          if (answer !== undefined) close();
          return answer === undefined
            ? new Promise<string>(() => {})
            : Promise.resolve(answer);
        },
      ),
      credentialsProvider: credentialsFrom(() => {
        this.log.credentialsAsked.push(now());
        return Promise.resolve(this.credentials);
      }),
      relogin: fromPromise<unknown, ReloginInput>(({ input }) => {
        this.log.relogin.push({ ...input, at: now() });
        if (this.relogin === "fails") {
          return Promise.reject(new Error("relogin: too frequent"));
        }
        this.later(() => this.setStatus(this.statusAfterRelogin));
        return Promise.resolve({});
      }),
    };
  }
}

/** A program-status Notify as the codec decodes it. */
export function statusNotification(status: number): SystemNotification {
  return {
    kind: "programStatus",
    type: 2,
    typeName: "ProgramStatus",
    status,
    statusName: undefined,
  };
}

/** A gateway-event Notify as the codec decodes it. */
export function gtwEventNotification(
  eventType: number,
  desc = "",
): SystemNotification {
  return {
    kind: "gtwEvent",
    type: 1,
    typeName: "GtwEvent",
    eventType,
    eventName: undefined,
    desc,
  };
}

/** A running supervisor wired to a fake OpenD, with everything it emitted. */
export interface SessionRig {
  readonly clock: ManualClock;
  readonly opend: FakeOpenD;
  readonly session: Actor<typeof sessionMachine>;
  readonly emitted: SessionEmitted[];
  /** Emitted events of one type. */
  of<T extends SessionEmitted["type"]>(
    type: T,
  ): Extract<SessionEmitted, { type: T }>[];
  /** Starts connecting and lets the first connection settle. */
  start(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A supervisor on a manual clock and a fake OpenD. */
export function rigSession(
  input: SessionInput = {},
  script: (opend: FakeOpenD) => void = () => {},
): SessionRig {
  const clock = new ManualClock();
  const opend = new FakeOpenD(clock);
  script(opend);
  const session = createActor(
    sessionMachine.provide({ actors: opend.actors() }),
    { clock, input: { random: () => 1, ...input } },
  );
  const emitted: SessionEmitted[] = [];
  session.on("*", (event) => emitted.push(event as SessionEmitted));
  session.start();
  return {
    clock,
    opend,
    session,
    emitted,
    of: <T extends SessionEmitted["type"]>(type: T) =>
      emitted.filter((event) => event.type === type) as Extract<
        SessionEmitted,
        { type: T }
      >[],
    async start() {
      session.send({ type: "START" });
      await clock.advance(0);
    },
    async [Symbol.asyncDispose]() {
      session.stop();
      await settle();
    },
  };
}
