/**
 * The client's push fan-out: `onPush` subscribers by protoID (or `"*"`),
 * and the delivery of one push to them in subscription order. A handler
 * that returns a promise holds the rest (and the delivery queue behind it)
 * until it settles; what a handler throws goes to `onHandlerError`.
 * @module
 */
import type { HandlerErrorContext } from "./options.ts";

/** A packet as it arrived: the raw decrypted body and its header fields. */
export interface RawPacket {
  /** The protocol ID. */
  readonly protoId: number;
  /** 0 protobuf, 1 JSON. */
  readonly protoFmt: number;
  /** The header's serial number. */
  readonly serialNo: number;
  /** The decrypted body, untouched. */
  readonly body: Uint8Array;
}

/** A push as `onPush` handlers get it. */
export type PushPacket = RawPacket;

/**
 * An `onPush` handler. It may return a promise: the next response or push is
 * delivered once it settles.
 */
export type PushHandler = (push: PushPacket) => void | Promise<void>;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

/** See the module doc. */
export class _PushFanout {
  readonly #handlers = new Map<number | "*", Set<PushHandler>>();
  readonly #report: (error: unknown, context: HandlerErrorContext) => void;
  readonly #closing: () => boolean;

  constructor(
    report: (error: unknown, context: HandlerErrorContext) => void,
    closing: () => boolean,
  ) {
    this.#report = report;
    this.#closing = closing;
  }

  /** Subscribes `handler` to pushes of `protoId` (or every one with "*"). */
  subscribe(protoId: number | "*", handler: PushHandler): () => void {
    let set = this.#handlers.get(protoId);
    if (set === undefined) {
      set = new Set();
      this.#handlers.set(protoId, set);
    }
    // A wrapper, so the same function subscribed twice is delivered twice.
    const entry: PushHandler = (push) => handler(push);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.#handlers.get(protoId) === set) {
        this.#handlers.delete(protoId);
      }
    };
  }

  /** The handlers a push of `protoId` goes to, in order. */
  handlersFor(protoId: number): PushHandler[] {
    const exact = this.#handlers.get(protoId);
    const any = this.#handlers.get("*");
    if (exact === undefined && any === undefined) return [];
    return [...exact ?? [], ...any ?? []];
  }

  /** Runs the handlers in order; returns a promise only if one is async. */
  deliver(push: PushPacket): unknown {
    const handlers = this.handlersFor(push.protoId);
    for (let i = 0; i < handlers.length; i++) {
      let result: unknown;
      try {
        result = handlers[i](push);
      } catch (error) {
        this.#report(error, { source: "push", protoId: push.protoId });
        continue;
      }
      if (isPromiseLike(result)) {
        return this.#deliverRest(result, handlers.slice(i + 1), push);
      }
    }
    return undefined;
  }

  async #deliverRest(
    first: PromiseLike<unknown>,
    rest: PushHandler[],
    push: PushPacket,
  ): Promise<void> {
    const context = { source: "push" as const, protoId: push.protoId };
    try {
      await first;
    } catch (error) {
      this.#report(error, context);
    }
    for (const handler of rest) {
      if (this.#closing()) return;
      try {
        await handler(push);
      } catch (error) {
        this.#report(error, context);
      }
    }
  }
}
