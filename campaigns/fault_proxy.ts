/**
 * A loopback TCP proxy that stands between a client and OpenD (or the
 * simulator) and breaks the link on purpose: drops with FIN or RST in a
 * chosen phase, half-open stalls, trickled bytes, lying lengths and
 * garbage. It follows the FT framing (headers are never encrypted), so
 * faults land at packet boundaries or inside a chosen packet. It also
 * watches that the client never talks on two links at once.
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";

const HEADER = 44;

/** How a connection is dropped: FIN (graceful end) or RST (reset). */
export type DropHow = "fin" | "rst";

/** Where in a connection's life a drop lands. */
export type DropPhase =
  | "accept"
  | "initConnectRequest"
  | "initConnectResponse"
  | "globalStateRequest"
  | "globalStateResponse";

/** A fault for the next connection the proxy accepts. */
export interface NextConnectionFault {
  /** Where to drop it. */
  readonly phase: DropPhase;
  /** FIN or RST. */
  readonly how: DropHow;
  /** Instead of dropping: call this (e.g. restart the server) at that point. */
  readonly instead?: () => void;
}

/** Follows packet boundaries in one direction of one connection. */
class Framer {
  #header: number[] = [];
  #bodyLeft = 0;
  #protoId = 0;

  /** Consumes bytes; calls `onHeader(protoId, at)` when a header completes at index `at`. */
  feed(
    bytes: Uint8Array,
    onHeader: (protoId: number, at: number) => void,
  ): void {
    for (let i = 0; i < bytes.length;) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, bytes.length - i);
        this.#bodyLeft -= n;
        i += n;
        continue;
      }
      this.#header.push(bytes[i++]);
      if (this.#header.length < HEADER) continue;
      const h = this.#header;
      this.#protoId = (h[2] | h[3] << 8 | h[4] << 16 | h[5] << 24) >>> 0;
      this.#bodyLeft = (h[12] | h[13] << 8 | h[14] << 16 | h[15] << 24) >>> 0;
      this.#header = [];
      onHeader(this.#protoId, i);
    }
  }

  /** Whether the bytes so far end exactly at a packet boundary. */
  get atBoundary(): boolean {
    return this.#bodyLeft === 0 && this.#header.length === 0;
  }
}

interface Link {
  readonly id: number;
  readonly client: Socket;
  readonly server: Socket;
  readonly toServer: Framer;
  readonly toClient: Framer;
  fault: NextConnectionFault | undefined;
  stalled: boolean;
  trickleUntil: number;
  trickleQueue: number[];
  trickleTimer: ReturnType<typeof setInterval> | undefined;
  /** Bytes to write to the client at its next packet boundary. */
  inject: Uint8Array | undefined;
  firstClientByteAt: number | undefined;
  closed: boolean;
  /** Both sockets closed. */
  done: Promise<void>;
}

/** A running fault proxy; see the module doc. */
export class FaultProxy {
  readonly #server: Server;
  readonly #targetHost: string;
  #targetPort: number;
  readonly #links = new Set<Link>();
  #nextId = 1;
  #nextFault: NextConnectionFault | undefined;
  #newestTalking = 0;
  #closing = false;
  #wake: (() => void) | undefined;
  /** Connections accepted so far. */
  accepted = 0;
  /** Moments the client spoke on an older link after a newer one spoke. */
  readonly overlaps: string[] = [];
  /** The faults that took effect, in order. */
  readonly applied: string[] = [];
  /** The port the proxy listens on. */
  port = 0;

  private constructor(server: Server, host: string, port: number) {
    this.#server = server;
    this.#targetHost = host;
    this.#targetPort = port;
  }

  /** Listens on a free loopback port and forwards to `host:port`. */
  static async start(port: number, host = "127.0.0.1"): Promise<FaultProxy> {
    const server = createServer((socket) => proxy.#accept(socket));
    const proxy = new FaultProxy(server, host, port);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    proxy.port = typeof address === "object" && address ? address.port : 0;
    return proxy;
  }

  /** Whether bytes are still being trickled (or wait to be). */
  get trickling(): boolean {
    for (const link of this.#links) {
      if (link.trickleTimer !== undefined || link.trickleQueue.length > 0) {
        return true;
      }
    }
    return false;
  }

  /** Links open now. */
  get open(): number {
    return this.#links.size;
  }

  /** The next accepted connection gets `fault` (replacing one not yet used). */
  armNextConnection(fault: NextConnectionFault): void {
    this.#nextFault = fault;
  }

  /** Drops every open link, with FIN or RST. Returns how many. */
  dropAll(how: DropHow): number {
    let n = 0;
    for (const link of this.#links) {
      this.#drop(link, how, "online");
      n++;
    }
    return n;
  }

  /**
   * Half-open: from now on the open links forward nothing, either way, and
   * stay open until an end closes them.
   */
  stallAll(): number {
    for (const link of this.#links) link.stalled = true;
    this.applied.push(`stall ${this.#links.size}`);
    return this.#links.size;
  }

  /** For `ms`, bytes towards the client go one per `everyMs` (default 1 ms). */
  trickle(ms: number, everyMs = 1): void {
    const until = Date.now() + ms;
    for (const link of this.#links) {
      link.trickleUntil = until;
      if (link.trickleTimer !== undefined) continue;
      link.trickleTimer = setInterval(() => this.#trickleStep(link), everyMs);
    }
    this.applied.push(`trickle ${ms} ms`);
  }

  /**
   * Writes `bytes` to the client of every open link at its next packet
   * boundary, between two real packets: a lying header, or garbage.
   */
  injectToClient(bytes: Uint8Array, what: string): number {
    for (const link of this.#links) {
      if (link.toClient.atBoundary && !link.stalled) {
        this.#writeClient(link, bytes);
      } else link.inject = bytes;
    }
    this.applied.push(what);
    return this.#links.size;
  }

  /**
   * Refuses connections for `ms` (the port is closed: clients get
   * ECONNREFUSED) and drops the open links; then listens again on the same
   * port. Resolves once listening again.
   */
  async refuse(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.dropAll("rst");
    });
    this.applied.push(`refused for ${ms} ms`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.#closing) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen({ host: "127.0.0.1", port: this.port }, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops listening and closes every link. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    this.#nextFault = undefined;
    const closing = [...this.#links].map((link) => this.#end(link, "rst"));
    await Promise.all([
      new Promise<void>((resolve) =>
        this.#server.listening ? this.#server.close(() => resolve()) : resolve()
      ),
      ...closing,
    ]);
  }

  #accept(client: Socket): void {
    this.accepted++;
    const server = connect({ host: this.#targetHost, port: this.#targetPort });
    const link: Link = {
      id: this.#nextId++,
      client,
      server,
      toServer: new Framer(),
      toClient: new Framer(),
      fault: this.#nextFault,
      stalled: false,
      trickleUntil: 0,
      trickleQueue: [],
      trickleTimer: undefined,
      inject: undefined,
      firstClientByteAt: undefined,
      closed: false,
      done: Promise.all(
        [client, server].map((s) =>
          new Promise<void>((resolve) => s.once("close", () => resolve()))
        ),
      ).then(() => {}),
    };
    this.#nextFault = undefined;
    this.#links.add(link);
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.on("error", () => {});
    server.on("error", () => {});
    client.on("close", () => void this.#end(link, "fin"));
    // Half-open: the client must find out by itself, not from a FIN.
    server.on("close", () => {
      if (!link.stalled) void this.#end(link, "fin");
    });
    if (link.fault?.phase === "accept") {
      this.#fire(link, "accept");
      return;
    }
    client.on("data", (data: Uint8Array) => this.#fromClient(link, data));
    server.on("data", (data: Uint8Array) => this.#fromServer(link, data));
  }

  #fromClient(link: Link, data: Uint8Array): void {
    if (link.closed) return;
    if (link.firstClientByteAt === undefined) {
      link.firstClientByteAt = Date.now();
      this.#newestTalking = Math.max(this.#newestTalking, link.id);
    }
    if (link.id < this.#newestTalking) {
      this.overlaps.push(
        `client spoke on link ${link.id} after link ${this.#newestTalking} had`,
      );
    }
    if (link.stalled) return;
    let cutAt: number | undefined;
    let phase: DropPhase | undefined;
    const f = link.fault;
    link.toServer.feed(data, (protoId, at) => {
      if (f === undefined || cutAt !== undefined) return;
      if (f.phase === "initConnectRequest" && protoId === 1001) {
        phase = f.phase;
        cutAt = at - HEADER + Math.min(HEADER, 20);
      } else if (f.phase === "globalStateRequest" && protoId === 1002) {
        phase = f.phase;
        cutAt = at;
      }
    });
    if (cutAt !== undefined && phase !== undefined) {
      link.server.write(data.subarray(0, Math.max(0, cutAt)));
      this.#fire(link, phase);
      return;
    }
    link.server.write(data);
  }

  #fromServer(link: Link, data: Uint8Array): void {
    if (link.closed || link.stalled) return;
    let cutAt: number | undefined;
    let phase: DropPhase | undefined;
    const f = link.fault;
    link.toClient.feed(data, (protoId, at) => {
      if (f === undefined || cutAt !== undefined) return;
      if (
        (f.phase === "initConnectResponse" && protoId === 1001) ||
        (f.phase === "globalStateResponse" && protoId === 1002)
      ) {
        phase = f.phase;
        // Inside the body: the header and a few body bytes go through.
        cutAt = at + 3;
      }
    });
    const pass = cutAt === undefined ? data : data.subarray(0, cutAt);
    if (link.trickleUntil > Date.now() || link.trickleQueue.length > 0) {
      for (const b of pass) link.trickleQueue.push(b);
    } else this.#writeClient(link, pass);
    if (phase !== undefined) this.#fire(link, phase);
    if (link.inject !== undefined && link.toClient.atBoundary) {
      const bytes = link.inject;
      link.inject = undefined;
      this.#writeClient(link, bytes);
    }
  }

  #writeClient(link: Link, bytes: Uint8Array): void {
    if (!link.closed && bytes.length > 0) link.client.write(bytes);
  }

  #trickleStep(link: Link): void {
    if (link.closed || Date.now() >= link.trickleUntil) {
      // The slow spell is over: what queued up goes at once.
      clearInterval(link.trickleTimer);
      link.trickleTimer = undefined;
      link.trickleUntil = 0;
      this.#writeClient(link, new Uint8Array(link.trickleQueue));
      link.trickleQueue = [];
      return;
    }
    const b = link.trickleQueue.shift();
    if (b !== undefined) this.#writeClient(link, new Uint8Array([b]));
  }

  #fire(link: Link, phase: DropPhase | "accept"): void {
    const f = link.fault!;
    link.fault = undefined;
    if (f.instead !== undefined) {
      this.applied.push(`${phase}: action`);
      f.instead();
      return;
    }
    this.#drop(link, f.how, phase);
  }

  #drop(link: Link, how: DropHow, phase: string): void {
    this.applied.push(`drop ${how} at ${phase} (link ${link.id})`);
    void this.#end(link, how);
  }

  #end(link: Link, how: DropHow): Promise<void> {
    if (!link.closed) {
      link.closed = true;
      this.#links.delete(link);
      if (link.trickleTimer !== undefined) clearInterval(link.trickleTimer);
      link.trickleTimer = undefined;
      for (const s of [link.client, link.server]) {
        if (how === "rst") s.resetAndDestroy();
        else s.end(() => s.destroy());
      }
      // A FIN the other end never answers: give up after a moment.
      const timer = setTimeout(() => {
        link.client.destroy();
        link.server.destroy();
      }, 500);
      void link.done.then(() => clearTimeout(timer));
    }
    return link.done;
  }
}
