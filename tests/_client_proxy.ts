/**
 * A tiny loopback TCP proxy for the client tests: it forwards both ways and
 * follows the FT packet framing of plaintext streams (headers are never
 * encrypted), so it can cut a connection in the middle of a chosen packet or
 * spoil one packet's body, deterministically.
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Which way bytes flow. */
export type Direction = "toServer" | "toClient";

type Fault =
  | { kind: "cut"; protoId: number | undefined; afterBodyBytes: number }
  | { kind: "corrupt"; protoId: number }
  | { kind: "hold"; protoId: number };

const HEADER = 44;

/** Tracks packet boundaries in one direction of one connection. */
class Framer {
  #header: number[] = [];
  #bodyLeft = 0;
  #protoId = 0;
  #bodySeen = 0;
  #justEnded = false;

  /** Where the next byte lies: in a header, or in the body of `protoId`. */
  position(): { inBody: boolean; protoId: number; bodySeen: number } {
    return {
      inBody: this.#bodyLeft > 0,
      protoId: this.#protoId,
      bodySeen: this.#bodySeen,
    };
  }

  /** Whether the last byte ended a packet. */
  atBoundary(): boolean {
    return this.#justEnded;
  }

  /** Consumes one byte. Returns true when a header just completed. */
  step(byte: number): boolean {
    this.#justEnded = false;
    if (this.#bodyLeft > 0) {
      this.#bodyLeft--;
      this.#bodySeen++;
      this.#justEnded = this.#bodyLeft === 0;
      return false;
    }
    this.#header.push(byte);
    if (this.#header.length < HEADER) return false;
    const h = this.#header;
    this.#protoId = (h[2] | h[3] << 8 | h[4] << 16 | h[5] << 24) >>> 0;
    this.#bodyLeft = (h[12] | h[13] << 8 | h[14] << 16 | h[15] << 24) >>> 0;
    this.#bodySeen = 0;
    this.#header = [];
    this.#justEnded = this.#bodyLeft === 0;
    return true;
  }
}

/** A running proxy; see the module doc. */
export class FaultProxy {
  readonly #server: Server;
  readonly #target: number;
  readonly #sockets = new Set<Socket>();
  readonly #closed = new Set<Promise<void>>();
  readonly #faults: Record<Direction, Fault[]> = { toServer: [], toClient: [] };
  #releases: (() => void)[] = [];
  #writers: Record<Direction, ((bytes: Uint8Array) => void)[]> = {
    toServer: [],
    toClient: [],
  };
  #heldPackets = 0;
  #heldWaiters: (() => boolean)[] = [];

  #countHeld(packets: number): void {
    this.#heldPackets += packets;
    this.#heldWaiters = this.#heldWaiters.filter((check) => !check());
  }
  /** Connections accepted so far. */
  accepted = 0;
  /** Faults that took effect, in order (for assertions). */
  readonly applied: string[] = [];
  port = 0;

  private constructor(server: Server, target: number) {
    this.#server = server;
    this.#target = target;
  }

  /** Listens on a free loopback port and forwards to `targetPort`. */
  static async start(targetPort: number): Promise<FaultProxy> {
    const server = createServer((client) => proxy.#accept(client));
    const proxy = new FaultProxy(server, targetPort);
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

  /**
   * The next packet going `direction` (of `protoId`, or any) is cut after
   * `afterBodyBytes` of its body: the bytes before go through, then both
   * sides of that connection are closed.
   */
  cutInside(
    direction: Direction,
    afterBodyBytes: number,
    protoId?: number,
  ): void {
    this.#faults[direction].push({ kind: "cut", protoId, afterBodyBytes });
  }

  /** The first body byte of the next `protoId` packet going `direction` is flipped. */
  corrupt(direction: Direction, protoId: number): void {
    this.#faults[direction].push({ kind: "corrupt", protoId });
  }

  /**
   * From the next `protoId` packet going `direction` on, bytes are held back
   * until {@link release}, which writes them all at once (one chunk).
   */
  holdFrom(direction: Direction, protoId: number): void {
    this.#faults[direction].push({ kind: "hold", protoId });
  }

  /** Resolves once {@link holdFrom} holds at least `packets` whole packets. */
  holding(packets: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#heldPackets < packets) return false;
        resolve();
        return true;
      };
      if (!check()) this.#heldWaiters.push(check);
    });
  }

  /** Writes what {@link holdFrom} held back, in one write, and stops holding. */
  release(): void {
    for (const release of this.#releases) release();
    this.#releases = [];
  }

  /**
   * Writes `bytes` going `direction` on every open connection, between two
   * packets of the real stream (garbage, a lying header, ...).
   */
  inject(direction: Direction, bytes: Uint8Array): void {
    for (const write of this.#writers[direction]) write(bytes);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const listening = new Promise<void>((resolve) =>
      this.#server.close(() => resolve())
    );
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([listening, ...this.#closed]);
  }

  /** `await using proxy = await FaultProxy.start(port)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("error", () => {});
    this.#closed.add(
      new Promise<void>((resolve) =>
        socket.once("close", () => {
          this.#sockets.delete(socket);
          resolve();
        })
      ),
    );
  }

  #accept(client: Socket): void {
    this.accepted++;
    const server = connect({ host: "127.0.0.1", port: this.#target });
    this.#track(client);
    this.#track(server);
    const kill = () => {
      client.destroy();
      server.destroy();
    };
    client.on("close", kill);
    server.on("close", kill);
    this.#pipe(client, server, "toServer", kill);
    this.#pipe(server, client, "toClient", kill);
  }

  /** Steps the framer over held bytes; returns how many packets completed. */
  #stepHeld(framer: Framer, bytes: Uint8Array): number {
    let whole = 0;
    for (const byte of bytes) {
      framer.step(byte);
      if (framer.atBoundary()) whole++;
    }
    return whole;
  }

  #pipe(from: Socket, to: Socket, direction: Direction, kill: () => void) {
    const framer = new Framer();
    let dead = false;
    let held: Uint8Array[] | undefined;
    const writer = (bytes: Uint8Array) => {
      if (!dead && !to.destroyed) to.write(bytes);
    };
    this.#writers[direction].push(writer);
    to.once("close", () => {
      const list = this.#writers[direction];
      list.splice(list.indexOf(writer), 1);
    });
    from.on("data", (chunk: Uint8Array) => {
      if (dead) return;
      const out = Uint8Array.from(chunk);
      if (held !== undefined) {
        held.push(out);
        this.#countHeld(this.#stepHeld(framer, out));
        return;
      }
      for (let i = 0; i < out.length; i++) {
        const before = framer.position();
        const fault = this.#faults[direction][0];
        if (fault !== undefined && before.inBody) {
          const matches = fault.protoId === undefined ||
            fault.protoId === before.protoId;
          if (matches && fault.kind === "corrupt" && before.bodySeen === 0) {
            out[i] ^= 0xff;
            this.#faults[direction].shift();
            this.applied.push(`corrupt ${direction} ${before.protoId}`);
          } else if (
            matches && fault.kind === "hold" && before.bodySeen === 0
          ) {
            // Hold from this packet's header on.
            this.#faults[direction].shift();
            this.applied.push(`hold ${direction} ${before.protoId}`);
            to.write(out.subarray(0, Math.max(0, i - HEADER)));
            held = [out.slice(Math.max(0, i - HEADER), i)];
            this.#releases.push(() => {
              const parts = held ?? [];
              held = undefined;
              const all = new Uint8Array(
                parts.reduce((n, p) => n + p.length, 0),
              );
              let at = 0;
              for (const part of parts) all.set(part, at), at += part.length;
              to.write(all);
            });
            const rest = out.slice(i);
            held.push(rest);
            this.#countHeld(this.#stepHeld(framer, rest));
            return;
          } else if (
            matches && fault.kind === "cut" &&
            before.bodySeen === fault.afterBodyBytes
          ) {
            this.#faults[direction].shift();
            this.applied.push(
              `cut ${direction} ${before.protoId} after ${before.bodySeen}`,
            );
            dead = true;
            // The bytes before the cut are flushed, then both sides close.
            to.end(out.subarray(0, i), () => kill());
            return;
          }
        }
        framer.step(out[i]);
      }
      to.write(out);
    });
  }
}
