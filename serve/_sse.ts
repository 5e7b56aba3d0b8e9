/**
 * Server-Sent Events streams that can never hold the supervisor up:
 * broadcasting only enqueues into each stream, and a consumer that falls
 * too far behind is disconnected (its browser reconnects and gets a fresh
 * state) rather than buffered without bound.
 * @module
 */

const encoder = new TextEncoder();

/** One SSE message. */
export function _sseMessage(event: string, data: unknown): Uint8Array {
  // JSON never contains a raw newline, so `data:` stays one line.
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

interface Stream {
  controller: ReadableStreamDefaultController<Uint8Array>;
}

/** Open SSE streams, with a shared keep-alive comment. */
export class _SseStreams {
  readonly #streams = new Set<Stream>();
  readonly #maxBacklog: number;
  readonly #pingMs: number;
  #pinger: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  readonly #maxStreams: number;

  constructor(maxBacklog = 500, pingMs = 15_000, maxStreams = 64) {
    this.#maxBacklog = maxBacklog;
    this.#pingMs = pingMs;
    this.#maxStreams = maxStreams;
  }

  /** Whether another stream may open. */
  get full(): boolean {
    return this.#streams.size >= this.#maxStreams;
  }

  /** Streams open now. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * A new stream starting with `initial`; ends when the client leaves (the
   * server cancels the body). Not tied to the request's signal: some servers
   * abort it as soon as the response starts.
   */
  open(initial: Uint8Array[]): ReadableStream<Uint8Array> {
    let stream: Stream | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        for (const chunk of initial) controller.enqueue(chunk);
        if (this.#closed) {
          controller.close();
          return;
        }
        stream = { controller };
        this.#streams.add(stream);
        this.#startPinger();
      },
      cancel: () => this.#drop(stream),
    }, new CountQueuingStrategy({ highWaterMark: 1 }));
    return body;
  }

  /** Enqueues `chunk` on every stream; drops those too far behind. */
  broadcast(chunk: Uint8Array): void {
    for (const stream of this.#streams) {
      const backlog = -(stream.controller.desiredSize ?? 0);
      if (backlog > this.#maxBacklog) {
        this.#end(stream);
        continue;
      }
      try {
        stream.controller.enqueue(chunk);
      } catch {
        this.#drop(stream);
      }
    }
  }

  /** Ends every stream. */
  close(): void {
    this.#closed = true;
    for (const stream of [...this.#streams]) this.#end(stream);
  }

  #end(stream: Stream | undefined): void {
    if (stream === undefined || !this.#streams.has(stream)) return;
    this.#drop(stream);
    try {
      stream.controller.close();
    } catch { /* already closed or cancelled */ }
  }

  #drop(stream: Stream | undefined): void {
    if (stream !== undefined) this.#streams.delete(stream);
    if (this.#streams.size === 0 && this.#pinger !== undefined) {
      clearInterval(this.#pinger);
      this.#pinger = undefined;
    }
  }

  #startPinger(): void {
    if (this.#pinger !== undefined) return;
    const ping = encoder.encode(": ping\n\n");
    this.#pinger = setInterval(() => this.broadcast(ping), this.#pingMs);
  }
}
