/**
 * Alerts posted to webhooks: one JSON object per alert, with a `text` a chat
 * webhook shows as is, signed with HMAC-SHA256 when a secret is given, and
 * retried with backoff. Sending never blocks the caller: {@link
 * WebhookNotifier.send} only queues; each URL has its own bounded queue and
 * one delivery at a time.
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Secret } from "../machines/mod.ts";

/** The alert types. */
export type AlertType =
  | "needsCode"
  | "needsPerson"
  | "fatal"
  | "gaveUp"
  | "ready";

/** What a webhook receives (the request body, JSON). */
export interface Alert {
  /** Unique per alert; retries carry the same id, so receivers can dedupe. */
  readonly id: string;
  /**
   * `needsCode`, `needsPerson`, `fatal`, `gaveUp`, or `ready` (Ready again
   * after a loss of the link or after one of the others).
   */
  readonly type: AlertType;
  /** One human sentence, ready for a chat message. */
  readonly text: string;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** Always `opend-machine`. */
  readonly source: "opend-machine";
  /** The OpenD this is about (`host:port`). */
  readonly opend: string;
  /** The supervisor's state then. */
  readonly link: string;
  /** OpenD's program status then. */
  readonly gateway: string;
  /** The event's own fields (reason, kind, attempt, downMs, ...). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** The header carrying the signature: `sha256=<hex HMAC-SHA256 of the body>`. */
export const SIGNATURE_HEADER = "x-opend-signature-256";

/** Options of {@link WebhookNotifier}. */
export interface WebhookOptions {
  /** Where to post (http or https URLs). */
  readonly urls: readonly string[];
  /** Signs each body with HMAC-SHA256 (header {@link SIGNATURE_HEADER}). */
  readonly secret?: string | Secret<string>;
  /** Tries per alert and URL (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay, doubled each time (default 1000 ms). */
  readonly backoffMs?: number;
  /** Longest retry delay (default 60000 ms). */
  readonly maxBackoffMs?: number;
  /** One attempt's time limit (default 10000 ms). */
  readonly timeoutMs?: number;
  /** Alerts waiting per URL; beyond it the oldest is dropped (default 100). */
  readonly queueSize?: number;
}

/** How one attempt ended. */
export type DeliveryResult = "ok" | "failed" | "dropped";

/** Hooks of {@link WebhookNotifier}. */
export interface WebhookHooks {
  /** After each attempt (`dropped`: an alert left the queue unsent). */
  readonly onResult?: (result: DeliveryResult, url: string) => void;
  /** One line per failure streak of a URL, and one when it recovers. */
  readonly log?: (line: string) => void;
}

/**
 * The signature header value of `body` under `secret`.
 *
 * @example
 * ```ts
 * import { signWebhookBody } from "./webhooks.ts";
 * signWebhookBody("s3cret", '{"type":"fatal"}').startsWith("sha256="); // true
 * ```
 */
export function signWebhookBody(
  secret: string | Secret<string>,
  body: string,
): string {
  const key = secret instanceof Secret ? secret.reveal() : secret;
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

/**
 * Whether `header` is the signature of `body` under `secret`, compared in
 * constant time: what a receiver runs before trusting an alert.
 *
 * @example
 * ```ts
 * import { signWebhookBody, verifyWebhookSignature } from "./webhooks.ts";
 * const body = '{"type":"fatal"}';
 * verifyWebhookSignature("s3cret", body, signWebhookBody("s3cret", body)); // true
 * verifyWebhookSignature("other", body, signWebhookBody("s3cret", body)); // false
 * ```
 */
export function verifyWebhookSignature(
  secret: string | Secret<string>,
  body: string,
  header: string | null,
): boolean {
  if (header === null) return false;
  const want = new TextEncoder().encode(signWebhookBody(secret, body));
  const got = new TextEncoder().encode(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Where a URL's failures are shown: no credentials, no query. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

class Target {
  readonly url: string;
  readonly queue: { alert: Alert; body: string }[] = [];
  busy = false;
  failing = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | undefined;
  abort: AbortController | undefined;
  constructor(url: string) {
    this.url = url;
  }
}

/**
 * Posts alerts to webhooks without ever making the caller wait.
 *
 * @example
 * ```ts
 * import { WebhookNotifier } from "./webhooks.ts";
 * const notifier = new WebhookNotifier({ urls: [] });
 * notifier.send({
 *   id: "1", type: "fatal", text: "OpenD: BanLogin", at: new Date().toISOString(),
 *   source: "opend-machine", opend: "127.0.0.1:11111", link: "stopped",
 *   gateway: "LoginFailed", details: {},
 * });
 * await notifier.close();
 * ```
 */
export class WebhookNotifier implements AsyncDisposable {
  readonly #targets: Target[];
  readonly #secret: Secret<string> | undefined;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #timeoutMs: number;
  readonly #queueSize: number;
  readonly #hooks: WebhookHooks;
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  /** Throws `TypeError` for a URL that is not http(s). */
  constructor(options: WebhookOptions, hooks: WebhookHooks = {}) {
    for (const url of options.urls) {
      let protocol = "";
      try {
        protocol = new URL(url).protocol;
      } catch { /* reported below */ }
      if (protocol !== "http:" && protocol !== "https:") {
        throw new TypeError(
          `webhook URL must be http(s): ${displayUrl(url)}`,
        );
      }
    }
    this.#targets = options.urls.map((url) => new Target(url));
    this.#secret = options.secret === undefined
      ? undefined
      : options.secret instanceof Secret
      ? options.secret
      : new Secret(options.secret);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#backoffMs = options.backoffMs ?? 1_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#queueSize = Math.max(1, options.queueSize ?? 100);
    this.#hooks = hooks;
  }

  /** Queues `alert` for every URL and returns at once. */
  send(alert: Alert): void {
    if (this.#closed) return;
    const body = JSON.stringify(alert);
    for (const target of this.#targets) {
      target.queue.push({ alert, body });
      while (target.queue.length > this.#queueSize) {
        target.queue.shift();
        this.#result("dropped", target);
      }
      if (!target.busy) {
        target.busy = true;
        const run = this.#drain(target).finally(() => {
          target.busy = false;
          this.#running.delete(run);
        });
        this.#running.add(run);
      }
    }
  }

  /** Stops: pending alerts are dropped, an attempt in flight is aborted. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const target of this.#targets) {
      target.queue.length = 0;
      clearTimeout(target.timer);
      target.wake?.();
      target.abort?.abort();
    }
    await Promise.all([...this.#running]);
  }

  /** `await using` support: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #result(result: DeliveryResult, target: Target): void {
    try {
      this.#hooks.onResult?.(result, target.url);
    } catch { /* a hook's failure is not the delivery's */ }
  }

  #log(line: string): void {
    try {
      (this.#hooks.log ?? ((l: string) => console.error(l)))(line);
    } catch { /* logging must not fail a delivery */ }
  }

  async #drain(target: Target): Promise<void> {
    // Starts after the caller's turn: send() never does network work.
    await Promise.resolve();
    while (!this.#closed && target.queue.length > 0) {
      const item = target.queue[0];
      for (let attempt = 1; !this.#closed; attempt++) {
        const error = await this.#attempt(target, item.body, item.alert);
        if (error === undefined) {
          this.#result("ok", target);
          if (target.failing) {
            target.failing = false;
            this.#log(`webhook ${displayUrl(target.url)}: delivering again`);
          }
          break;
        }
        this.#result("failed", target);
        if (!target.failing) {
          target.failing = true;
          this.#log(
            `webhook ${
              displayUrl(target.url)
            } failed: ${error} (retrying with backoff)`,
          );
        }
        if (attempt >= this.#maxAttempts) {
          this.#result("dropped", target);
          break;
        }
        const delay = Math.min(
          this.#maxBackoffMs,
          this.#backoffMs * 2 ** (attempt - 1),
        );
        await new Promise<void>((resolve) => {
          target.wake = resolve;
          target.timer = setTimeout(resolve, delay);
        });
        target.wake = undefined;
      }
      if (target.queue[0] === item) target.queue.shift();
    }
  }

  /** One POST; `undefined` on a 2xx, else what went wrong. */
  async #attempt(
    target: Target,
    body: string,
    alert: Alert,
  ): Promise<string | undefined> {
    const abort = new AbortController();
    target.abort = abort;
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "opend-machine",
        "x-opend-event": alert.type,
        "x-opend-delivery": alert.id,
      };
      if (this.#secret !== undefined) {
        headers[SIGNATURE_HEADER] = signWebhookBody(this.#secret, body);
      }
      const response = await fetch(target.url, {
        method: "POST",
        headers,
        body,
        signal: abort.signal,
        redirect: "manual",
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return abort.signal.aborted
        ? this.#closed ? "closed" : `no answer in ${this.#timeoutMs} ms`
        : error instanceof Error
        ? error.name === "TypeError" ? "could not connect" : error.name
        : "error";
    } finally {
      clearTimeout(timer);
      target.abort = undefined;
    }
  }
}
