/**
 * Every figure of `deno task bench`, written against the public API only so
 * the same code runs in Deno (from the sources) and in Node (bundled against
 * `dist/`). Rates are per CPU-second, the median of rotated rounds measured
 * side by side in one process.
 * @module
 */
// deno-lint-ignore-file no-import-prefix
import { Buffer } from "node:buffer";
import { createDecipheriv, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import process from "node:process";
import protobuf from "npm:protobufjs@8.8.1";
import {
  assign,
  createActor,
  fromCallback,
  fromPromise,
  setup,
} from "npm:xstate@5.33.3";
import {
  createAesCipher,
  decodeNotification,
  encodeNotification,
  encodePacket,
  FrameDecoder,
  gtwEventNotification,
  PacketCrypto,
  PacketEncAlgo,
  ProgramStatusType,
} from "../codec/mod.ts";
import { sessionMachine, STATUS_STATE_PATHS } from "../machines/mod.ts";
import { createOpenDClient } from "../client/mod.ts";
import { startSimulator } from "../sim/mod.ts";

/** How much work each figure does. */
export interface BenchOptions {
  /** Rounds per figure (the median is reported). */
  rounds: number;
  /** Scale of every workload: 1 for the real run, small for a smoke test. */
  scale: number;
  /** Packets for the RSS figures. */
  rssPackets: number;
  /** Clients for the connection figures. */
  clients: number;
  /** Where the repository is (the .proto files for the baseline decoder). */
  root: string;
  /** Only these groups (by name); all when absent. */
  only?: string[];
}

/** One measured figure. */
export interface Figure {
  /** Stable key shared by the Deno and Node runs. */
  key: string;
  /** The measured value. */
  value: number;
  /** The baseline it is compared with, measured in the same run. */
  baseline?: number;
  /** Unit of `value` and `baseline`. */
  unit: string;
}

const KEY = "0123456789abcdef";
const IV = "fedcba9876543210";
const CHUNK = 64 * 1024;

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const gc = (globalThis as { gc?: () => void }).gc;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs each function once per round (after a collection and an unmeasured
 * run), starting from a different one each round, and returns the median
 * rate (work units per CPU-second) of each.
 */
function rates(
  fns: Record<string, () => number>,
  rounds: number,
): Record<string, number> {
  const names = Object.keys(fns);
  const samples: Record<string, number[]> = {};
  for (const name of names) {
    fns[name](); // warm-up
    samples[name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      // Nobody pays for the garbage of the figure measured before it. A
      // full collection also makes V8 drop optimised code whose weak
      // references died with the previous round's objects (a decoder, its
      // chunks) and hand freed pages back to the system, which a long-lived
      // process never sees every 100,000 packets: one unmeasured run puts
      // both back before the measured one.
      if (gc !== undefined) {
        gc();
        fns[name]();
      }
      const start = cpuSeconds();
      const units = fns[name]();
      const spent = Math.max(cpuSeconds() - start, 1e-6);
      samples[name].push(units / spent);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function chunks(stream: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += size) {
    out.push(stream.subarray(i, i + size));
  }
  return out;
}

function aesCrypto(): PacketCrypto {
  return new PacketCrypto({
    aes: createAesCipher({ algo: PacketEncAlgo.AES_CBC, key: KEY, iv: IV }),
  });
}

/** A Notify whose body is 39 bytes, as the issue measured. */
function notifyBody(): Uint8Array {
  return encodeNotification(
    gtwEventNotification(7, "kicked out by device no. 42"),
  );
}

function notifyStream(packets: number, crypto?: PacketCrypto): Uint8Array {
  const body = notifyBody();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < packets; i++) {
    parts.push(encodePacket({ protoId: 1003, serialNo: i, body }, crypto));
  }
  return concat(parts);
}

function loadNotifyType(root: string): protobuf.Type {
  const pb = new protobuf.Root();
  for (const name of ["Common", "Notify"]) {
    const text = readFileSync(`${root}/codec/proto/${name}.proto`, "utf8");
    protobuf.parse(text, pb, { keepCase: true });
  }
  pb.resolveAll();
  return pb.lookupType("Notify.Response");
}

/** The straightforward receive path the issue compares with. */
function straightforward(
  pieces: Uint8Array[],
  type: protobuf.Type,
  aes: boolean,
): number {
  let buffer = Buffer.alloc(0);
  let count = 0;
  for (const piece of pieces) {
    buffer = Buffer.concat([buffer, piece]);
    while (buffer.length >= 44) {
      const bodyLen = buffer.readUInt32LE(12);
      if (buffer.length < 44 + bodyLen) break;
      let body = buffer.subarray(44, 44 + bodyLen);
      if (aes) {
        const d = createDecipheriv("aes-128-cbc", KEY, IV);
        body = Buffer.concat([d.update(body), d.final()]);
      }
      const digest = createHash("sha1").update(body).digest();
      if (!digest.equals(buffer.subarray(16, 36))) throw new Error("SHA-1");
      type.decode(body);
      count++;
      buffer = buffer.subarray(44 + bodyLen);
    }
  }
  return count;
}

function ours(pieces: Uint8Array[], crypto?: PacketCrypto): number {
  const decoder = new FrameDecoder({ crypto });
  let count = 0;
  for (const piece of pieces) {
    for (const r of decoder.push(piece)) {
      if (!r.ok) throw r.error;
      decodeNotification(r.packet.body);
      count++;
    }
  }
  return count;
}

/** Small packets, plain and AES-CBC, against the straightforward pipeline. */
function smallPackets(o: BenchOptions): Figure[] {
  const type = loadNotifyType(o.root);
  const n = Math.max(200, Math.round(100_000 * o.scale));
  const plain = chunks(notifyStream(n), CHUNK);
  const aes = chunks(notifyStream(n, aesCrypto()), CHUNK);
  const r = rates({
    plain: () => ours(plain),
    plainBase: () => straightforward(plain, type, false),
    aes: () => ours(aes, aesCrypto()),
    aesBase: () => straightforward(aes, type, true),
  }, o.rounds);
  return [
    { key: "small", value: r.plain, baseline: r.plainBase, unit: "pkt/s" },
    {
      key: "smallPython",
      value: r.plain,
      baseline: PYTHON_PKT_S,
      unit: "pkt/s",
    },
    { key: "smallAes", value: r.aes, baseline: r.aesBase, unit: "pkt/s" },
  ];
}

/** The official Python SDK's parse path, recorded (PyPI is not reachable here). */
export const PYTHON_PKT_S = 100_000;
/** When and how {@link PYTHON_PKT_S} was measured. */
export const PYTHON_NOTE =
  "official Python SDK `parse_rsp` (pure-Python protobuf), recorded 2026-12 on this machine class";

/** Large bodies through the decoder against bare native SHA-1 (+ AES-CBC). */
function largeBodies(o: BenchOptions): Figure[] {
  const figures: Figure[] = [];
  const sizes = o.scale >= 1
    ? [64 * 1024, 1024 * 1024, 16 * 1024 * 1024]
    : [64 * 1024, 1024 * 1024];
  for (const size of sizes) {
    const packets = Math.max(1, Math.round((4 * 1024 * 1024 / size) * o.scale));
    const body = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    const crypto = aesCrypto();
    const plainStream = concat(
      Array.from(
        { length: packets },
        (_, i) => encodePacket({ protoId: 3005, serialNo: i, body }),
      ),
    );
    const plainWire = chunks(plainStream, CHUNK);
    const aesWire = encodePacket({ protoId: 3005, serialNo: 0, body }, crypto);
    const aesPacket = aesWire.length;
    const aesFull = concat(Array.from({ length: packets }, () => aesWire));
    const aesStream = chunks(aesFull, CHUNK);
    // The baselines work on the same bytes, where they lie in the stream.
    const plainBodies = Array.from(
      { length: packets },
      (_, i) =>
        plainStream.subarray(i * (44 + size) + 44, (i + 1) * (44 + size)),
    );
    const aesBodies = Array.from(
      { length: packets },
      (_, i) => aesFull.subarray(i * aesPacket + 44, (i + 1) * aesPacket),
    );
    const bytes = size * packets;
    const decodeAll = (pieces: Uint8Array[], c?: PacketCrypto) => {
      const d = new FrameDecoder({ crypto: c });
      let n = 0;
      for (const p of pieces) {
        for (const r of d.push(p)) {
          if (!r.ok) throw r.error;
          n += r.packet.body.length;
        }
      }
      return n;
    };
    const r = rates({
      plain: () => decodeAll(plainWire),
      plainBare: () => {
        for (const b of plainBodies) createHash("sha1").update(b).digest();
        return bytes;
      },
      aes: () => decodeAll(aesStream, aesCrypto()),
      aesBare: () => {
        for (const encrypted of aesBodies) {
          const d = createDecipheriv("aes-128-cbc", KEY, IV);
          const head = d.update(encrypted);
          const tail = d.final();
          createHash("sha1").update(head).update(tail).digest();
        }
        return bytes;
      },
    }, o.rounds);
    const label = size >= 1024 * 1024
      ? `${size / 1024 / 1024}MiB`
      : `${size / 1024}KiB`;
    figures.push(
      {
        key: `large${label}`,
        value: r.plain / 2 ** 20,
        baseline: r.plainBare / 2 ** 20,
        unit: "MiB/s",
      },
      {
        key: `largeAes${label}`,
        value: r.aes / 2 ** 20,
        baseline: r.aesBare / 2 ** 20,
        unit: "MiB/s",
      },
    );
  }
  return figures;
}

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Peak memory while one 16 MiB AES-CBC body arrives in 64 KiB chunks, in body sizes. */
function bodyCopies(o: BenchOptions): Figure[] {
  const size = o.scale >= 1 ? 16 * 1024 * 1024 : 1024 * 1024;
  const body = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  const pieces = chunks(
    encodePacket({ protoId: 3005, serialNo: 1, body }, aesCrypto()),
    CHUNK,
  );
  const run = (decode: (piece: Uint8Array) => void) => {
    gc?.();
    gc?.();
    const base = memory();
    let peak = base;
    for (const piece of pieces) {
      decode(piece);
      peak = Math.max(peak, memory());
    }
    return (peak - base) / size;
  };
  const decoder = new FrameDecoder({ crypto: aesCrypto() });
  const copies = run((piece) => {
    for (const r of decoder.push(piece)) if (!r.ok) throw r.error;
  });
  // Baseline: concatenate, decrypt per packet, hash.
  let buffer = Buffer.alloc(0);
  const base = run((piece) => {
    buffer = Buffer.concat([buffer, piece]);
    if (buffer.length === 44 + size + 16) {
      const d = createDecipheriv("aes-128-cbc", KEY, IV);
      const plain = Buffer.concat([d.update(buffer.subarray(44)), d.final()]);
      createHash("sha1").update(plain).digest();
      buffer = Buffer.alloc(0);
    }
  });
  return [{ key: "copies", value: copies, baseline: base, unit: "bodies" }];
}

/** RSS growth after warm-up while many small packets are decoded. */
function rss(o: BenchOptions): Figure[] {
  const out: Figure[] = [];
  for (const aes of [false, true]) {
    const crypto = aes ? aesCrypto() : undefined;
    const pieces = chunks(notifyStream(20_000, crypto), CHUNK);
    const decoder = new FrameDecoder({ crypto });
    let count = 0;
    let warm = 0;
    let peak = 0;
    while (count < o.rssPackets) {
      for (const piece of pieces) {
        for (const r of decoder.push(piece)) {
          if (!r.ok) throw r.error;
          decodeNotification(r.packet.body);
          count++;
        }
      }
      const now = process.memoryUsage().rss;
      if (warm === 0 && count >= o.rssPackets / 10) warm = now;
      peak = Math.max(peak, now);
    }
    out.push({
      key: aes ? "rssAes" : "rss",
      value: (peak - warm) / 2 ** 20,
      unit: "MiB",
    });
  }
  return out;
}

const silent = {
  link: fromCallback(() => {}),
  initConnect: fromPromise(() => new Promise<never>(() => {})),
  getGlobalState: fromPromise(() => new Promise<never>(() => {})),
  keepAlive: fromPromise(() => new Promise<never>(() => {})),
};

/** A supervisor taken online by hand: its actors never answer, the events stand in for them. */
function onlineSession() {
  const clock = { setTimeout: (): number => 0, clearTimeout: (): void => {} };
  const session = createActor(
    // Only the actor names are assumed, so the bench survives other changes.
    (sessionMachine as unknown as { provide(o: object): typeof sessionMachine })
      .provide({ actors: silent }),
    { clock },
  ).start();
  session.send({ type: "START" });
  session.send({ type: "LINK_UP" });
  session.send({
    type: "xstate.done.actor.initConnect",
    output: { keepAliveInterval: 10, connId: 1 },
  } as never);
  session.send({
    type: "xstate.done.actor.getGlobalState",
    output: { programStatus: { type: 10 }, qotLogined: true, trdLogined: true },
  } as never);
  if (!session.getSnapshot().hasTag("online")) {
    throw new Error("the bench session did not get online");
  }
  return session;
}

type StatusName = keyof typeof ProgramStatusType;
const STATUS_NAMES = Object.keys(ProgramStatusType) as StatusName[];

/** A bare state: no entry, exit, invoke, after, always or tags. */
interface BareState {
  type?: "parallel" | "final";
  initial?: string;
  states?: Record<string, BareState>;
  on?: Record<string, unknown>;
}

/** What the bare machines do per PROGRAM_STATUS: route to the status's state, keep it in context. */
function statusRouting(target: (name: StatusName) => string) {
  return STATUS_NAMES.map((name) => ({
    guard: ({ event }: { event: { status: number } }) =>
      event.status === ProgramStatusType[name],
    target: target(name),
    actions: assign({
      status: ({ event }: { event: { status: number } }) => event.status,
    }),
  }));
}

function bareMachine(states: Record<string, BareState>) {
  return createActor(
    setup({
      types: {} as {
        context: { status: number };
        events: { type: "PROGRAM_STATUS"; status: number };
      },
    }).createMachine({
      context: { status: 0 },
      type: "parallel",
      states: states as never,
    }),
  ).start();
}

interface TreeNode {
  type: string;
  states: Record<string, TreeNode>;
}

/**
 * The supervisor's state tree, every node of it, starting where `active`
 * (the supervisor's snapshot value) says, without any of its behaviour.
 */
function mirror(node: TreeNode, active: unknown): BareState {
  const children = Object.entries(node.states).filter(([, c]) =>
    c.type !== "history"
  );
  if (children.length === 0) {
    return node.type === "final" ? { type: "final" } : {};
  }
  const at = active as Record<string, unknown> | string | undefined;
  const activeKey = typeof at === "string"
    ? at
    : at === undefined
    ? undefined
    : Object.keys(at)[0];
  const states = Object.fromEntries(children.map(([key, child]) => [
    key,
    mirror(
      child,
      typeof at === "object" && (node.type === "parallel" || key === activeKey)
        ? at[key]
        : undefined,
    ),
  ]));
  return node.type === "parallel"
    ? { type: "parallel", states }
    : { initial: activeKey ?? children[0][0], states };
}

/**
 * The supervisor's cost per gateway event against two bare XState machines:
 * one with only the gateway's states, one with the supervisor's whole state
 * tree (link, gateway and recovery regions, in the same active states).
 */
function statecharts(o: BenchOptions): Figure[] {
  const session = onlineSession();
  const gatewayOnly = bareMachine({
    link: { initial: "online", states: { online: {} } },
    gateway: {
      initial: "None",
      states: Object.fromEntries(STATUS_NAMES.map((n) => [n, {}])),
      on: { PROGRAM_STATUS: statusRouting((n) => `.${n}`) },
    },
  });
  const tree = mirror(
    (sessionMachine as unknown as { root: TreeNode }).root,
    session.getSnapshot().value,
  );
  const statusRegion = tree.states?.gateway?.states?.status;
  if (statusRegion === undefined) {
    throw new Error("the supervisor has no gateway.status region");
  }
  statusRegion.on = {
    PROGRAM_STATUS: statusRouting((n) => `.${STATUS_STATE_PATHS[n].join(".")}`),
  };
  const sameTree = bareMachine(tree.states!);
  const same = (a: unknown, b: unknown) =>
    JSON.stringify(a) === JSON.stringify(b);
  if (!same(sameTree.getSnapshot().value, session.getSnapshot().value)) {
    throw new Error("the bare machine is not where the supervisor is");
  }
  const events = Math.max(500, Math.round(50_000 * o.scale));
  const ready = { type: "PROGRAM_STATUS", status: 10 } as const;
  const loging = { type: "PROGRAM_STATUS", status: 2 } as const;
  const drive =
    (actor: { send(e: typeof ready | typeof loging): void }) => () => {
      for (let i = 0; i < events; i++) actor.send(i & 1 ? ready : loging);
      return events;
    };
  const r = rates({
    session: drive(session),
    gatewayOnly: drive(gatewayOnly),
    sameTree: drive(sameTree),
  }, o.rounds);
  for (const actor of [session, gatewayOnly, sameTree]) actor.stop();
  // Reported as cost (us per event), so the ratio reads "x the bare machine".
  return [
    {
      key: "statechart",
      value: 1e6 / r.session,
      baseline: 1e6 / r.gatewayOnly,
      unit: "us/event",
    },
    {
      key: "statechartTree",
      value: 1e6 / r.session,
      baseline: 1e6 / r.sameTree,
      unit: "us/event",
    },
  ];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** N supervised clients against one simulator in this process. */
async function connections(o: BenchOptions): Promise<Figure[]> {
  const sim = await startSimulator({ port: 0, opsPort: false });
  const clients: ReturnType<typeof createOpenDClient>[] = [];
  try {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    for (let i = 0; i < o.clients; i++) {
      clients.push(
        createOpenDClient({ host: "127.0.0.1", port: sim.address.port }),
      );
    }
    await Promise.all(clients.map((c) => c.whenReady(120_000)));
    const readyMs = performance.now() - start;
    gc?.();
    const heapPerClient = (process.memoryUsage().heapUsed - heapBefore) /
      o.clients;
    // The drop: how long the event loop is blocked while every link goes down.
    let maxBlock = 0;
    let last = performance.now();
    let watching = true;
    const watch = () => {
      const now = performance.now();
      maxBlock = Math.max(maxBlock, now - last);
      last = now;
      if (watching) setTimeout(watch, 1);
    };
    setTimeout(watch, 1);
    await sleep(20);
    maxBlock = 0;
    last = performance.now();
    sim.dropAllConnections();
    await sleep(1500);
    watching = false;
    await Promise.all(clients.map((c) => c.whenReady(120_000)));
    return [
      { key: "clientsReady", value: readyMs, unit: "ms" },
      { key: "clientHeap", value: heapPerClient / 1024, unit: "KiB" },
      { key: "dropBlock", value: maxBlock, unit: "ms" },
    ];
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await sim.close();
  }
}

/** The groups of figures, in the order they run (`--only` picks some). */
export const GROUPS: readonly string[] = [
  "small",
  "large",
  "copies",
  "rss",
  "statecharts",
  "connections",
];

/** Runs every figure; one that fails is reported as missing, not fatal. */
export async function runCases(o: BenchOptions): Promise<{
  figures: Figure[];
  errors: string[];
}> {
  const figures: Figure[] = [];
  const errors: string[] = [];
  const groups: [string, () => Figure[] | Promise<Figure[]>][] = ([
    ["small", () => smallPackets(o)],
    ["large", () => largeBodies(o)],
    ["copies", () => bodyCopies(o)],
    ["rss", () => rss(o)],
    ["statecharts", () => statecharts(o)],
    ["connections", () => connections(o)],
  ] as [string, () => Figure[] | Promise<Figure[]>][]).filter(([name]) =>
    o.only === undefined || o.only.includes(name)
  );
  for (const [name, run] of groups) {
    try {
      figures.push(...await run());
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : error}`);
    }
  }
  return { figures, errors };
}
