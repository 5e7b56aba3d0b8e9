/**
 * Prometheus metrics of one observed client, kept by prom-client in a
 * registry of their own (never the process-wide default one).
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "./_prom_client.ts";
import { ProgramStatusType } from "../codec/definitions.ts";
import type { LinkPhase } from "../machines/mod.ts";
import type { _Observer, ConsoleState } from "./_observer.ts";

const LINK_PHASES: readonly LinkPhase[] = [
  "idle",
  "connecting",
  "initializing",
  "syncing",
  "online",
  "closing",
  "lost",
  "backoff",
  "closed",
  "stopped",
];

const STATUS_NAMES = Object.keys(ProgramStatusType);

/** Loss reasons become labels: their cause only, and a bounded set of them. */
const MAX_REASONS = 24;

/** The metrics, updated from an observer. */
export class _Metrics {
  readonly registry: Registry = new Registry();
  readonly #reasons = new Set<string>();
  readonly #up: Gauge;
  readonly #ready: Gauge;
  readonly #fatal: Gauge;
  readonly #status: Gauge;
  readonly #statusCode: Gauge;
  readonly #link: Gauge;
  readonly #attempt: Gauge;
  readonly #losses: Counter;
  readonly #reconnects: Counter;
  readonly #codeRequests: Counter;
  readonly #codes: Counter;
  readonly #relogins: Counter;
  readonly #notifications: Counter;
  readonly #alerts: Counter;
  readonly #keepAlive: Histogram;
  readonly #recovery: Histogram;
  /** Webhook deliveries by result; counted by the notifier. */
  readonly webhooks: Counter;
  /** Console requests refused, by reason. */
  readonly refused: Counter;
  readonly #off: () => void;

  constructor(observer: _Observer) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, labelNames: string[] = []) =>
      new Counter({ name, help, labelNames, registers });
    this.#up = gauge(
      "opend_supervisor_up",
      "1 while the session supervisor runs and is not fatal",
    );
    this.#ready = gauge(
      "opend_ready",
      "1 while the link is online and OpenD is Ready",
    );
    this.#fatal = gauge("opend_fatal", "1 while the gateway is fatal");
    this.#status = gauge(
      "opend_program_status",
      "OpenD's program status: 1 for the current ProgramStatusType",
      ["status"],
    );
    this.#statusCode = gauge(
      "opend_program_status_code",
      "OpenD's program status as its ProgramStatusType number (-1 unknown)",
    );
    this.#link = gauge(
      "opend_link_phase",
      "The link's phase: 1 for the current one",
      ["phase"],
    );
    this.#attempt = gauge(
      "opend_reconnect_attempt",
      "Reconnect attempts since the last stable online period",
    );
    this.#losses = counter(
      "opend_link_losses_total",
      "Links to OpenD lost, by cause",
      ["reason"],
    );
    this.#reconnects = counter(
      "opend_reconnect_attempts_total",
      "Reconnects scheduled after a loss",
    );
    this.#codeRequests = counter(
      "opend_code_requests_total",
      "Times the supervisor asked for a verification code, by kind",
      ["kind"],
    );
    this.#codes = counter(
      "opend_codes_total",
      "Verification codes by outcome: submitted, accepted (OpenD logged in) or rejected",
      ["outcome"],
    );
    this.#relogins = counter(
      "opend_relogins_total",
      "Relogins sent through OpenD's operations port",
    );
    this.#notifications = counter(
      "opend_notifications_total",
      "Notifications from OpenD, by NotifyType",
      ["type"],
    );
    this.#alerts = counter(
      "opend_supervisor_events_total",
      "Supervisor events by type (fatal, gaveUp, needsPerson, needsCode, ...)",
      ["type"],
    );
    this.webhooks = counter(
      "opend_webhook_deliveries_total",
      "Webhook delivery attempts by result (ok, failed, dropped)",
      ["result"],
    );
    this.refused = counter(
      "opend_console_refused_total",
      "Console requests refused, by reason",
      ["reason"],
    );
    this.#keepAlive = new Histogram({
      name: "opend_keepalive_rtt_seconds",
      help: "KeepAlive round-trip time",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#recovery = new Histogram({
      name: "opend_recovery_seconds",
      help: "Time from losing the link to OpenD being Ready again",
      buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    for (const kind of ["phone", "picture"]) {
      this.#codeRequests.inc({ kind }, 0);
    }
    for (const outcome of ["submitted", "accepted", "rejected"]) {
      this.#codes.inc({ outcome }, 0);
    }
    for (const result of ["ok", "failed", "dropped"]) {
      this.webhooks.inc({ result }, 0);
    }
    this.#update(observer.state, undefined);
    this.#off = observer.listen({
      event: (entry, raw) => {
        if (raw === undefined) return;
        this.#alerts.inc({ type: raw.type });
        if (raw.type === "lost") {
          this.#losses.inc({ reason: this.#reasonLabel(raw.reason) });
        } else if (raw.type === "reconnecting") this.#reconnects.inc();
        else if (raw.type === "needsCode") {
          this.#codeRequests.inc({ kind: raw.kind });
        } else if (raw.type === "notification") {
          const n = raw.notification;
          this.#notifications.inc({ type: n.typeName ?? String(n.type) });
        }
        void entry;
      },
      state: (state, previous) => this.#update(state, previous),
      keepAlive: (ms) => this.#keepAlive.observe(ms / 1000),
      recovered: (ms) => this.#recovery.observe(ms / 1000),
    });
  }

  /** Stops following the observer. */
  close(): void {
    this.#off();
  }

  #reasonLabel(reason: string): string {
    const cause = reason.split(/ after |:/)[0].trim().slice(0, 60) ||
      "unknown";
    if (this.#reasons.has(cause)) return cause;
    if (this.#reasons.size >= MAX_REASONS) return "other";
    this.#reasons.add(cause);
    return cause;
  }

  #update(state: ConsoleState, previous: ConsoleState | undefined): void {
    const s = state.summary;
    this.#up.set(state.running && !s.fatal && s.link !== "stopped" ? 1 : 0);
    this.#ready.set(s.ready ? 1 : 0);
    this.#fatal.set(s.fatal ? 1 : 0);
    for (const status of STATUS_NAMES) {
      this.#status.set({ status }, status === s.gateway ? 1 : 0);
    }
    this.#statusCode.set(
      (ProgramStatusType as Record<string, number>)[s.gateway] ?? -1,
    );
    for (const phase of LINK_PHASES) {
      this.#link.set({ phase }, phase === s.link ? 1 : 0);
    }
    this.#attempt.set(s.attempt);
    if (previous === undefined) return;
    const was = previous.summary.recovery;
    const now = s.recovery;
    if (was === now) return;
    if (now === "verifying.submitting") {
      this.#codes.inc({ outcome: "submitted" });
    }
    if (was === "verifying.submitting" || was === "verifying.awaitingLogin") {
      if (now === "watching") this.#codes.inc({ outcome: "accepted" });
      else if (now !== "verifying.awaitingLogin") {
        this.#codes.inc({ outcome: "rejected" });
      }
    }
    if (now === "relogging.sending") this.#relogins.inc();
  }
}
