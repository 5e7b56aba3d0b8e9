/**
 * A loopback proxy that records every packet in both directions, in the
 * order they completed, so a campaign can read what crossed the wire (and
 * learn each connection's AES key the way an eavesdropper with the RSA key
 * would).
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** One connection's packets, each whole (header and body), in order. */
export interface TappedConnection {
  /** Packets with the way they went. */
  readonly packets: { toServer: boolean; bytes: Uint8Array }[];
}

class Cutter {
  #buf = new Uint8Array(0);
  push(data: Uint8Array, out: (packet: Uint8Array) => void): void {
    const joined = new Uint8Array(this.#buf.length + data.length);
    joined.set(this.#buf);
    joined.set(data, this.#buf.length);
    let at = 0;
    while (joined.length - at >= 44) {
      const len = new DataView(joined.buffer, at + 12, 4).getUint32(0, true);
      if (joined.length - at < 44 + len) break;
      out(joined.slice(at, at + 44 + len));
      at += 44 + len;
    }
    this.#buf = joined.slice(at);
  }
}

/** A running tap; see the module doc. */
export class WireTap {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Every connection seen. */
  readonly connections: TappedConnection[] = [];
  /** The port to connect to instead of the target's. */
  port = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on a free loopback port and forwards to `port`. */
  static async start(port: number): Promise<WireTap> {
    const tap: WireTap = new WireTap(createServer((client) => {
      const server = connect({ host: "127.0.0.1", port });
      const conn: TappedConnection = { packets: [] };
      tap.connections.push(conn);
      const up = new Cutter();
      const down = new Cutter();
      for (const s of [client, server]) {
        tap.#sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => {
          tap.#sockets.delete(s);
          client.destroy();
          server.destroy();
        });
      }
      client.on("data", (d: Uint8Array) => {
        up.push(d, (bytes) => conn.packets.push({ toServer: true, bytes }));
        server.write(d);
      });
      server.on("data", (d: Uint8Array) => {
        down.push(d, (bytes) => conn.packets.push({ toServer: false, bytes }));
        client.write(d);
      });
    }));
    await new Promise<void>((resolve) =>
      tap.#server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
    );
    const address = tap.#server.address();
    tap.port = typeof address === "object" && address ? address.port : 0;
    return tap;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const closing = [...this.#sockets].map((s) =>
      new Promise<void>((resolve) => {
        s.once("close", () => resolve());
        s.destroy();
      })
    );
    await Promise.all([
      new Promise<void>((resolve) => this.#server.close(() => resolve())),
      ...closing,
    ]);
  }
}
