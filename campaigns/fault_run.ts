/**
 * One seeded fault run: the client against the simulator through a
 * {@link FaultProxy}, a few faults drawn from {@link FAULT_KIND_NAMES}, and the
 * client's promises checked through its public API only.
 * @module
 */
import {
  createOpenDClient,
  encodeHeader,
  generateRsaKeyPem,
  isClientError,
  type OpenDClient,
  type OpenDSimulator,
  startSimulator,
} from "../mod.ts";
import { FaultProxy } from "./fault_proxy.ts";
import { Rng } from "./_rng.ts";

/** The client's timings in a run: short, so many runs fit in a campaign. */
export const FAULT_RUN_TIMINGS = {
  /** The simulator's keepAliveInterval (s): a KeepAlive every 800 ms. */
  keepAliveIntervalS: 1,
  requestTimeoutMs: 1000,
  silenceTimeoutMs: 2000,
  connectTimeoutMs: 1000,
  reconnectBaseMs: 50,
  reconnectCapMs: 500,
  /** Added to every recovery bound: handshakes, login, a loaded machine. */
  marginMs: 3000,
} as const;

/** What a fault needs to act. */
interface FaultContext {
  /** The run's random source. */
  readonly rng: Rng;
  /** The simulated OpenD. */
  readonly sim: OpenDSimulator;
  /** The proxy between the client and it. */
  readonly proxy: FaultProxy;
}

/** One kind of fault. */
interface FaultKind {
  /** Its name in reports. */
  readonly name: string;
  /** Whether the link must be lost (and won back) after it. */
  readonly disruptive: boolean;
  /** Applies it; resolves with how long it keeps the way blocked (ms). */
  readonly apply: (ctx: FaultContext) => Promise<number> | number;
}

function phaseDrop(
  phase:
    | "accept"
    | "initConnectRequest"
    | "initConnectResponse"
    | "globalStateRequest"
    | "globalStateResponse",
  how: "fin" | "rst",
): FaultKind {
  return {
    name: `drop-${phase}-${how}`,
    disruptive: true,
    apply: ({ proxy }) => {
      // The link is dropped online, and the reconnect dropped at `phase`.
      proxy.armNextConnection({ phase, how });
      proxy.dropAll("fin");
      return 0;
    },
  };
}

function lyingHeader(rng: Rng): Uint8Array {
  return encodeHeader({
    protoId: rng.pick([1003, 1004, 3005]),
    protoFmt: 0,
    protoVer: 0,
    serialNo: rng.u32(),
    // Under the default 64 MiB limit: the decoder waits for it.
    bodyLen: rng.int(4096, 1 << 20),
    sha1: rng.bytes(20),
  });
}

function garbage(rng: Rng): Uint8Array {
  const bytes = rng.bytes(rng.int(1, 300));
  if (bytes[0] === 0x46) bytes[0] = 0x47;
  return bytes;
}

/** Every fault a run draws from. */
const FAULT_KINDS: readonly FaultKind[] = [
  {
    name: "drop-online-fin",
    disruptive: true,
    apply: ({ proxy }) => (proxy.dropAll("fin"), 0),
  },
  {
    name: "drop-online-rst",
    disruptive: true,
    apply: ({ proxy }) => (proxy.dropAll("rst"), 0),
  },
  phaseDrop("accept", "fin"),
  phaseDrop("accept", "rst"),
  phaseDrop("initConnectRequest", "fin"),
  phaseDrop("initConnectRequest", "rst"),
  phaseDrop("initConnectResponse", "fin"),
  phaseDrop("initConnectResponse", "rst"),
  phaseDrop("globalStateRequest", "fin"),
  phaseDrop("globalStateRequest", "rst"),
  phaseDrop("globalStateResponse", "fin"),
  phaseDrop("globalStateResponse", "rst"),
  {
    name: "half-open-stall",
    disruptive: true,
    apply: ({ proxy }) => (proxy.stallAll(), 0),
  },
  {
    name: "trickle",
    disruptive: false,
    apply: ({ proxy, rng }) => {
      const ms = rng.int(300, 1500);
      proxy.trickle(ms);
      return ms;
    },
  },
  {
    name: "restart-mid-initconnect",
    disruptive: true,
    apply: ({ proxy, sim, rng }) => {
      const downMs = rng.int(100, 1500);
      proxy.armNextConnection({
        phase: "initConnectRequest",
        how: "fin",
        instead: () => void sim.restart(downMs),
      });
      proxy.dropAll("fin");
      return downMs;
    },
  },
  {
    name: "restart-online",
    disruptive: true,
    apply: async ({ sim, rng }) => {
      const downMs = rng.int(100, 1500);
      await sim.restart(downMs);
      return downMs;
    },
  },
  {
    name: "refuse-closed-port",
    disruptive: true,
    apply: async ({ sim, proxy, rng }) => {
      const ms = rng.int(200, 1500);
      await sim.refuseConnections(ms, "closed-port");
      proxy.dropAll("fin");
      return ms;
    },
  },
  {
    name: "refuse-accept-and-close",
    disruptive: true,
    apply: async ({ sim, proxy, rng }) => {
      const ms = rng.int(200, 1500);
      await sim.refuseConnections(ms, "accept-and-close");
      proxy.dropAll("rst");
      return ms;
    },
  },
  {
    name: "refuse-connect",
    disruptive: true,
    apply: ({ proxy, rng }) => {
      const ms = rng.int(200, 1500);
      // Not awaited: the refusal lasts while the client tries to reconnect.
      void proxy.refuse(ms);
      return ms;
    },
  },
  {
    name: "drop-all",
    disruptive: true,
    apply: ({ sim }) => (sim.dropAllConnections(), 0),
  },
  {
    name: "lying-length",
    disruptive: true,
    apply: (
      { proxy, rng },
    ) => (proxy.injectToClient(lyingHeader(rng), "lying length"), 0),
  },
  {
    name: "garbage",
    disruptive: true,
    apply: (
      { proxy, rng },
    ) => (proxy.injectToClient(garbage(rng), "garbage"), 0),
  },
];

/** The names of every fault kind a run draws from. */
export const FAULT_KIND_NAMES: readonly string[] = FAULT_KINDS.map((k) =>
  k.name
);

/**
 * Faults whose runs are known to fail today, each with the reason; the CI
 * slice skips them until the fix lands. The full campaign runs them anyway.
 */
export const PENDING_FAULTS: Readonly<Record<string, string>> = {};

/** What one run found. */
export interface FaultRunOutcome {
  /** The campaign's seed. */
  readonly seed: number;
  /** The run's index. */
  readonly index: number;
  /** The faults applied, in order. */
  readonly faults: readonly string[];
  /** Slowest recovery (fault to Ready again), ms. */
  readonly worstRecoveryMs: number;
  /** Pushes received. */
  readonly pushesReceived: number;
  /** Pushes the simulator sent (some while the link was down). */
  readonly pushesSent: number;
  /** Requests sent during the run. */
  readonly requests: number;
  /** Broken promises (empty: the run passed). */
  readonly violations: readonly string[];
  /** `Date.now()` when close() had resolved and everything was closed. */
  readonly closedAt: number;
}

/** Options of {@link runFaultRun}. */
export interface FaultRunOptions {
  /** Only these faults, by name (default: every kind). */
  readonly kinds?: readonly string[];
  /** Faults per run: 1 to this (default 3). */
  readonly maxFaults?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs fault run `index` of campaign `seed` and reports what it found. It
 * leaves nothing running: when it resolves, the client, proxy and
 * simulator are closed.
 */
export async function runFaultRun(
  seed: number,
  index: number,
  options: FaultRunOptions = {},
): Promise<FaultRunOutcome> {
  const T = FAULT_RUN_TIMINGS;
  const rng = new Rng(seed, index);
  const kinds = options.kinds === undefined
    ? FAULT_KINDS
    : FAULT_KINDS.filter((k) => options.kinds!.includes(k.name));
  if (kinds.length === 0) throw new RangeError("no such fault kind");
  const encryption = rng.pick(["none", "aes_cbc", "ftaes_ecb"] as const);
  const rsa = encryption === "none" ? undefined : generateRsaKeyPem(1024);
  const violations: string[] = [];
  const faults: string[] = [];
  const sim = await startSimulator({
    port: 0,
    opsPort: false,
    keepAliveInterval: T.keepAliveIntervalS,
    idleTimeoutMs: 3000,
    loginDelayMs: 20,
    ...(rsa ? { rsaPrivateKey: rsa } : {}),
  });
  const proxy = await FaultProxy.start(sim.address.port);
  const events: { t: number; type: string }[] = [];
  const received: number[] = [];
  const settled = new Set<Promise<unknown>>();
  let requests = 0;
  let pushSeq = 0;
  let worst = 0;
  const client: OpenDClient = createOpenDClient({
    port: proxy.port,
    ...(rsa ? { rsaPrivateKey: rsa, packetEncAlgo: encryption } : {}),
    requestTimeoutMs: T.requestTimeoutMs,
    reconnect: { baseMs: T.reconnectBaseMs, capMs: T.reconnectCapMs },
    session: {
      silenceTimeoutMs: T.silenceTimeoutMs,
      connectTimeoutMs: T.connectTimeoutMs,
      requestTimeoutMs: T.requestTimeoutMs,
      closeTimeoutMs: 300,
    },
    onHandlerError: (error) =>
      violations.push(`a handler error reached the client: ${error}`),
  });
  client.on("*", (e) => events.push({ t: Date.now(), type: e.type }));
  client.onPush(3005, ({ body }) => {
    received.push(
      new DataView(body.buffer, body.byteOffset).getUint32(0, true),
    );
  });
  const push = () => {
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, ++pushSeq, true);
    sim.pushPacket(3005, body);
  };
  const track = (p: Promise<unknown>, what: string) => {
    requests++;
    const tracked: Promise<unknown> = p.then(
      (): void => void settled.delete(tracked),
      (error): void => {
        settled.delete(tracked);
        if (!isClientError(error)) {
          violations.push(`${what} rejected with a non-ClientError: ${error}`);
        }
      },
    );
    settled.add(tracked);
  };
  const ready = () => client.describe().ready;
  let background: ReturnType<typeof setInterval> | undefined;
  let tick = 0;
  try {
    await client.whenReady(15_000);
    background = setInterval(() => {
      if (ready()) push();
      if (++tick % 5 === 0 && ready()) {
        track(
          client.request(1002, { userID: "0" }, {
            timeoutMs: T.requestTimeoutMs,
          }),
          "a background request",
        );
      }
    }, 30);
    const count = rng.int(1, options.maxFaults ?? 3);
    for (let k = 0; k < count; k++) {
      await sleep(rng.int(100, 600));
      const kind = rng.pick(kinds);
      faults.push(kind.name);
      const t0 = Date.now();
      const activeMs = await kind.apply({ rng, sim, proxy });
      const bound = activeMs + T.reconnectCapMs + T.silenceTimeoutMs +
        T.marginMs;
      let recoveredAt: number | undefined;
      while (Date.now() - t0 <= bound) {
        await sleep(20);
        const lost = events.findIndex((e) => e.t >= t0 && e.type === "lost");
        const done = kind.disruptive
          ? lost >= 0 &&
            events.some((e, i) => i > lost && e.type === "ready") && ready()
          : Date.now() - t0 >= activeMs && !proxy.trickling && ready();
        if (done) {
          recoveredAt = Date.now();
          break;
        }
      }
      if (recoveredAt === undefined) {
        const s = client.describe();
        const sawLoss = events.some((e) => e.t >= t0 && e.type === "lost");
        violations.push(
          `fault ${k + 1} (${kind.name}): not Ready again within ${bound} ms (${
            sawLoss ? "link lost" : "no link loss seen"
          }; link ${s.link}, ready ${s.ready}${
            s.lastReason ? `, last: ${s.lastReason}` : ""
          })`,
        );
        break;
      }
      worst = Math.max(worst, recoveredAt - t0);
      try {
        await client.request(1002, { userID: "0" }, {
          timeoutMs: T.requestTimeoutMs,
        });
      } catch (error) {
        // Lost again at once (the fault's tail): one more chance.
        try {
          await client.whenReady(bound);
          await client.request(1002, { userID: "0" });
        } catch {
          violations.push(
            `fault ${
              k + 1
            } (${kind.name}): a request after Ready failed: ${error}`,
          );
          break;
        }
      }
    }
    clearInterval(background);
    background = undefined;
    if (violations.length === 0) {
      await client.request(1002, { userID: "0" });
      const first = pushSeq + 1;
      for (let i = 0; i < 10; i++) push();
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && !received.includes(first + 9)) {
        await sleep(10);
      }
      const last10 = received.filter((n) => n >= first);
      if (
        last10.join() !== Array.from({ length: 10 }, (_, i) => first + i).join()
      ) {
        violations.push(
          `the 10 pushes after the faults arrived as [${last10}]`,
        );
      }
    }
  } catch (error) {
    violations.push(
      `run aborted: ${error instanceof Error ? error.message : error}`,
    );
  } finally {
    if (background !== undefined) clearInterval(background);
  }
  for (let i = 1; i < received.length; i++) {
    if (received[i] <= received[i - 1]) {
      violations.push(
        `push ${received[i]} arrived after ${
          received[i - 1]
        } (duplicate or out of order)`,
      );
      break;
    }
  }
  // Requests in flight across the faults: all settle within their timeout.
  const settleBy = Date.now() + T.requestTimeoutMs + 1000;
  while (settled.size > 0 && Date.now() < settleBy) await sleep(20);
  if (settled.size > 0) {
    violations.push(`${settled.size} requests never settled`);
  }
  violations.push(...proxy.overlaps.slice(0, 3));
  await client.close();
  await proxy.close();
  await sim.close();
  return {
    seed,
    index,
    faults,
    worstRecoveryMs: worst,
    pushesReceived: received.length,
    pushesSent: pushSeq,
    requests,
    violations,
    closedAt: Date.now(),
  };
}
