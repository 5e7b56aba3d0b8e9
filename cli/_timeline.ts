/**
 * A readable, optionally coloured timeline of what a client and OpenD do,
 * shared by the `demo` and `watch` commands.
 * @module
 */
import {
  labelOf,
  type OpenDClient,
  ProgramStatusType,
  type SessionEmitted,
  type SystemNotification,
} from "../mod.ts";

/** Colour of a timeline line's source. */
export type Tone =
  | "story"
  | "opend"
  | "client"
  | "state"
  | "person"
  | "good"
  | "bad";

/** ANSI colours per tone. */
const COLORS: Record<Tone, string> = {
  story: "\x1b[1m",
  opend: "\x1b[36m",
  client: "\x1b[35m",
  state: "\x1b[33m",
  person: "\x1b[32m",
  good: "\x1b[1;32m",
  bad: "\x1b[1;31m",
};

/** Writes timeline lines, stamped with the time since it was created. */
export interface Timeline {
  /** One line: time, source, text. */
  say(who: string, tone: Tone, text: string): void;
  /** A heading between parts of a story. */
  chapter(text: string): void;
  /** `text` in the tone's colour (plain without colour). */
  paint(tone: Tone, text: string): string;
}

/** Creates a timeline writing through `write`, in colour when `color`. */
export function createTimeline(
  write: (line: string) => void,
  color: boolean,
): Timeline {
  const started = performance.now();
  const paint = (tone: Tone, text: string) =>
    color ? `${COLORS[tone]}${text}\x1b[0m` : text;
  return {
    paint,
    say(who, tone, text) {
      const at = ((performance.now() - started) / 1000).toFixed(3).padStart(7);
      write(
        `${paint("state", `+${at}s`)}  ${paint(tone, who.padEnd(7))} ${text}`,
      );
    },
    chapter(text) {
      write("");
      write(paint("story", `== ${text}`));
    },
  };
}

/** Whether to colour output: a terminal, and NO_COLOR unset. */
export function wantsColor(): boolean {
  return Deno.stdout.isTerminal() && !Deno.noColor;
}

/**
 * Prints a client's link and OpenD status changes and its events on the
 * timeline; returns the unsubscribe function. `notification` events are left
 * out unless `notifications` is true.
 */
export function followClient(
  client: OpenDClient,
  timeline: Timeline,
  { notifications = false }: { notifications?: boolean } = {},
): () => void {
  const last = { link: "", gateway: "" };
  const offState = client.subscribe((summary) => {
    if (summary.link !== last.link) {
      timeline.say("link", "state", `-> ${summary.link}`);
    }
    if (summary.gateway !== last.gateway) {
      timeline.say("gateway", "state", `-> ${summary.gateway}`);
    }
    last.link = summary.link;
    last.gateway = summary.gateway;
  });
  const offEvents = client.on("*", (event: SessionEmitted) => {
    if (event.type === "notification" && !notifications) return;
    const tone: Tone = event.type === "ready"
      ? "good"
      : event.type === "fatal"
      ? "bad"
      : "client";
    timeline.say("client", tone, describeEmitted(event));
  });
  return () => {
    offState();
    offEvents();
  };
}

/** One readable line for a supervisor event. */
export function describeEmitted(event: SessionEmitted): string {
  switch (event.type) {
    case "ready":
      return `ready (connID ${event.connId ?? "?"})`;
    case "lost":
      return `link lost: ${event.reason}`;
    case "reconnecting":
      return `reconnecting in ${
        event.delayMs / 1000
      } s (attempt ${event.attempt})`;
    case "needsCode":
      return `needs a ${event.kind} code (${event.reason})`;
    case "needsPerson":
      return `needs a person: ${event.reason}`;
    case "gaveUp":
      return `gave up: ${event.reason}`;
    case "fatal":
      return `fatal: ${event.reason}`;
    case "stopped":
      return `stopped: ${event.reason}`;
    case "closed":
      return "closed";
    case "notification":
      return `OpenD says: ${describeNotification(event.notification)}`;
  }
}

/** One readable line for an OpenD notification. */
export function describeNotification(n: SystemNotification): string {
  switch (n.kind) {
    case "gtwEvent":
      return `GtwEvent ${n.eventName ?? `Unknown(${n.eventType})`}${
        n.desc ? ` "${n.desc}"` : ""
      }`;
    case "programStatus":
      return `status ${labelOf(ProgramStatusType, n.status)}${
        n.strExtDesc ? ` (${n.strExtDesc})` : ""
      }`;
    case "connStatus":
      return `quote server ${
        n.qotLogined ? "logged in" : "logged out"
      }, trade server ${n.trdLogined ? "logged in" : "logged out"}`;
    case "qotRight":
      return `quote rights ${JSON.stringify(n.rights)}`;
    case "apiLevel":
      return `API level ${n.apiLevel}`;
    case "apiQuota":
      return `quota: ${n.subQuota} subscriptions, ${n.historyKLQuota} historical candlesticks`;
    case "usedQuota":
      return `used quota: ${n.usedSubQuota ?? 0} subscriptions, ${
        n.usedKLineQuota ?? 0
      } historical candlesticks`;
    case "unknown":
      return `NotifyType ${n.type} ${JSON.stringify(n.s2c)}`;
  }
}
