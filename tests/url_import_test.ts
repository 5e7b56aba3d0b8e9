/**
 * Importing from a URL, as a Deno user would: the repository is served over
 * loopback HTTP and a script run with `deno run --no-config` imports
 * `http://127.0.0.1:PORT/mod.ts` and every other entry of deno.json
 * `exports`. With no config there is no import map, so any bare name in
 * library code (`xstate`, `@std/assert`, ...) fails to resolve and fails
 * this test: library code must use full `npm:` specifiers (deps.ts).
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".mts": "application/typescript; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".mjs": "application/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
};

/** Serves ROOT read-only; records every path asked for. */
function serveRepository(requested: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("read-only", { status: 405 });
    }
    const path = decodeURIComponent(new URL(request.url).pathname);
    requested.push(path);
    const file = normalize(join(ROOT, path));
    const type = CONTENT_TYPES[extname(file)];
    if (
      !file.startsWith(ROOT) || path.split("/").includes("..") ||
      type === undefined
    ) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(file);
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "content-type": type },
      });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        return new Response("not found", { status: 404 });
      }
      throw e;
    }
  });
}

/** What the script below prints as its last line. */
interface Report {
  entries: Record<string, string[]>;
  decoded: { kind: string; eventName: string; protoId: number };
  programStatus: string[];
  session: { started: string; closed: string } | { skipped: string };
  rawSession: { encryption: string; status: number; pushed: string } | {
    skipped: string;
  };
  clientSession: { encryption: string; requests: number[] } | {
    skipped: string;
  };
}

/** The script run from a temporary file, importing everything by URL. */
function scriptFor(
  base: string,
  entries: [string, string][],
  xstate: string,
): string {
  const imports = entries.map(([, path], i) =>
    `import * as entry${i} from ${JSON.stringify(base + path)};`
  ).join("\n");
  const table = entries.map(([subpath], i) =>
    `  ${JSON.stringify(subpath)}: entry${i},`
  ).join("\n");
  return `${imports}
import { createActor } from ${JSON.stringify(xstate)};
import { connect } from "node:net";

// deno-lint-ignore no-explicit-any
type Any = any;
const entries: Record<string, Record<string, Any>> = {
${table}
};
const root = entries["."];
function pick(name: string): Any {
  if (name in root) return root[name];
  for (const mod of Object.values(entries)) if (name in mod) return mod[name];
  return undefined;
}
function need(name: string): Any {
  const value = pick(name);
  if (value === undefined) throw new Error("no entry exports " + name);
  return value;
}
function check(ok: unknown, what: string): void {
  if (!ok) throw new Error("failed: " + what);
}

// 1. A packet: encode, cut in two, decode.
const body = need("encodeNotification")(
  need("gtwEventNotification")(need("GtwEventType").KickedOut, "elsewhere"),
);
const bytes = need("encodePacket")({ protoId: need("ProtoId").Notify, serialNo: 3, body });
const decoder = new (need("FrameDecoder"))();
const results = [...decoder.push(bytes.subarray(0, 20)), ...decoder.push(bytes.subarray(20))];
check(results.length === 1 && results[0].ok, "one packet decoded");
const notification = need("decodeNotification")(results[0].packet.body);

// 2. The program-status machine, fed decoded notifications.
const status: Any = createActor(need("programStatusMachine"), { input: {} }).start();
const seen: string[] = [];
const feed = (n: Any) =>
  status.send(need("notificationToEvent")(need("decodeNotification")(need("encodeNotification")(n))));
feed(need("programStatusNotification")(need("ProgramStatusType").Ready));
seen.push(status.getSnapshot().context.statusName);
feed(need("gtwEventNotification")(need("GtwEventType").KickedOut, "elsewhere"));
seen.push(status.getSnapshot().context.statusName);
status.send({ type: "PROGRAM_STATUS", status: need("ProgramStatusType").Ready });
seen.push(status.getSnapshot().hasTag("ready") ? "ready" : "not ready");
status.stop();

// 3. The session supervisor: created, started (idle until START), closed.
let session: Report["session"];
const sessionMachine = pick("sessionMachine");
if (sessionMachine === undefined) {
  session = { skipped: "no entry exports sessionMachine" };
} else {
  const actor: Any = createActor(sessionMachine, { input: {} }).start();
  const started = String(actor.getSnapshot().value.link);
  actor.send({ type: "CLOSE" });
  const closed = String(actor.getSnapshot().value.link);
  actor.stop();
  session = { started, closed };
}

// 4. The simulator, spoken to with the codec alone: RSA InitConnect, AES-CBC.
let rawSession: Report["rawSession"];
const startSimulator = pick("startSimulator");
if (startSimulator === undefined) {
  rawSession = { skipped: "no entry exports startSimulator (sim/ is not exported)" };
} else {
  const pem = need("generateRsaKeyPem")(1024);
  const sim = await startSimulator({ rsaPrivateKey: pem, opsPort: false });
  const crypto = new (need("PacketCrypto"))({ rsa: need("RsaKey").fromPem(pem) });
  const frames = new (need("FrameDecoder"))({ crypto });
  const waiting = new Map<string, (p: Any) => void>();
  const socket = connect({ host: sim.address.host, port: sim.address.port });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    socket.on("data", (chunk: Uint8Array) => {
      frames.pushEach(new Uint8Array(chunk), (r: Any) => {
        if (!r.ok) throw r.error;
        const key = waiting.has("push:" + r.packet.protoId)
          ? "push:" + r.packet.protoId
          : r.packet.protoId + ":" + r.packet.serialNo;
        if (r.packet.protoId === 1001) {
          const s2c = need("decodeResponse")(1001, r.packet.body).s2c;
          crypto.setAes(need("createAesCipher")({
            algo: need("PacketEncAlgo").AES_CBC,
            key: s2c.connAESKey,
            iv: s2c.aesCBCiv,
          }));
        }
        waiting.get(key)?.(r.packet);
        waiting.delete(key);
      });
    });
    let serialNo = 1;
    const send = (protoId: number, c2s: Any): Promise<Any> => {
      const n = serialNo++;
      const reply = new Promise((resolve) => waiting.set(protoId + ":" + n, resolve));
      socket.write(need("encodePacket")(
        { protoId, serialNo: n, body: need("encodeRequest")(protoId, c2s) },
        crypto,
      ));
      return reply.then((p: Any) => need("decodeResponse")(protoId, p.body));
    };
    const init = await send(1001, {
      clientVer: 300,
      clientID: "url-import-test",
      recvNotify: true,
      packetEncAlgo: need("PacketEncAlgo").AES_CBC,
      pushProtoFmt: 0,
      programmingLanguage: "TypeScript",
    });
    check(init.retType === 0, "InitConnect succeeded");
    const event = await sim.waitFor("initConnect", (e: Any) => e.connId === init.s2c.connID);
    const state = await send(1002, { userID: init.s2c.loginUserID });
    const pushed = new Promise((resolve) => waiting.set("push:1003", resolve));
    sim.pushGtwEvent(7, "logged in on another device");
    const n = need("decodeNotification")(((await pushed) as Any).body);
    rawSession = {
      encryption: event.encryption,
      status: state.s2c.programStatus.type,
      pushed: n.eventName,
    };
  } finally {
    socket.destroy();
    await sim.close();
  }
}

// 5. The real client against the simulator.
let clientSession: Report["clientSession"];
const createOpenDClient = pick("createOpenDClient");
if (startSimulator === undefined || createOpenDClient === undefined) {
  clientSession = {
    skipped: "no entry exports both startSimulator and createOpenDClient (client/ and sim/ are not exported)",
  };
} else {
  const pem = need("generateRsaKeyPem")(1024);
  const sim = await startSimulator({ rsaPrivateKey: pem, opsPort: false });
  let client: Any;
  try {
    const since = sim.mark();
    client = createOpenDClient({
      host: sim.address.host,
      port: sim.address.port,
      rsaPrivateKey: pem,
      packetEncAlgo: "aes_cbc",
    });
    await client.whenReady(10000);
    const init = await sim.waitFor("initConnect", undefined, { since, timeoutMs: 10000 });
    const state = await client.request(1002, { userID: "0" });
    if (state.programStatus?.type !== 10) throw new Error("GetGlobalState did not report Ready");
    clientSession = {
      encryption: init.encryption,
      requests: sim.events
        .filter((e: Any) => e.type === "request" && e.conn === init.conn)
        .map((e: Any) => e.protoId),
    };
  } finally {
    await client?.close();
    await sim.close();
  }
}

const report: Report = {
  entries: Object.fromEntries(
    Object.entries(entries).map(([k, v]) => [k, Object.keys(v).sort()]),
  ),
  decoded: {
    kind: notification.kind,
    eventName: notification.eventName,
    protoId: results[0].packet.protoId,
  },
  programStatus: seen,
  session,
  rawSession,
  clientSession,
};
console.log(JSON.stringify(report));

interface Report {
  entries: Record<string, string[]>;
  decoded: { kind: string; eventName: string; protoId: number };
  programStatus: string[];
  session: { started: string; closed: string } | { skipped: string };
  rawSession: { encryption: string; status: number; pushed: string } | { skipped: string };
  clientSession: { encryption: string; requests: number[] } | { skipped: string };
}
`;
}

function xstateSpecifier(depsSource: string): string {
  const m = /["'](npm:xstate@[^/"']+)["']/.exec(depsSource);
  if (m === null) throw new Error("deps.ts does not pin npm:xstate");
  return m[1];
}

async function npmCacheDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    npmCache: string;
  };
  return info.npmCache;
}

Deno.test("mod.ts and every exports entry import from a URL with no config", async (t) => {
  const denoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const entries: [string, string][] = Object.entries(
    denoJson.exports as Record<string, string>,
  ).map(([subpath, path]) => [subpath, path.replace(/^\.\//, "")]);
  assert(entries.some(([subpath]) => subpath === "."));
  const xstate = xstateSpecifier(
    await Deno.readTextFile(join(ROOT, "deps.ts")),
  );

  const requested: string[] = [];
  const server = serveRepository(requested);
  const work = await Deno.makeTempDir({ prefix: "opend-machine-url-" });
  try {
    const base = `http://127.0.0.1:${server.addr.port}/`;
    const script = join(work, "use_by_url.ts");
    await Deno.writeTextFile(script, scriptFor(base, entries, xstate));
    // A scratch DENO_DIR keeps this run's remote modules (a new port every
    // run) out of the user's cache; npm packages come from the shared cache.
    const denoDir = join(work, "deno_dir");
    await Deno.mkdir(denoDir);
    await Deno.symlink(await npmCacheDir(), join(denoDir, "npm"));

    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: work,
        env: { DENO_DIR: denoDir, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      return {
        success: out.success,
        stdout: text.decode(out.stdout),
        stderr: text.decode(out.stderr),
      };
    };
    const flags = [
      "--no-config",
      "--no-lock",
      `--allow-import=127.0.0.1:${server.addr.port}`,
    ];

    const checked = await run(["check", ...flags, script]);
    assert(
      checked.success,
      `deno check of the URL imports failed:\n${checked.stderr}`,
    );

    const ran = await run([
      "run",
      ...flags,
      "--allow-net=127.0.0.1",
      script,
    ]);
    assert(
      ran.success,
      `the script importing by URL failed:\n${ran.stderr}\n${ran.stdout}`,
    );
    const report = JSON.parse(ran.stdout.trim().split("\n").at(-1)!) as Report;

    await t.step("every entry was imported by URL, and nothing else", () => {
      assertEquals(Object.keys(report.entries), entries.map(([s]) => s));
      for (const [subpath, names] of Object.entries(report.entries)) {
        assert(names.length > 0, `${subpath} exports nothing`);
      }
      for (const [, path] of entries) assert(requested.includes(`/${path}`));
      const outside = requested.filter((p) =>
        /^\/(tests|testing|scripts|cli|examples|bench|node_test)\//.test(p)
      );
      assertEquals(outside, [], "library code reached test or tool files");
    });

    await t.step("a packet decodes", () => {
      assertEquals(report.decoded, {
        kind: "gtwEvent",
        eventName: "KickedOut",
        protoId: 1003,
      });
    });

    await t.step("the program-status machine follows notifications", () => {
      assertEquals(report.programStatus, ["Ready", "ForceLogout", "ready"]);
    });

    await t.step({
      name: "the session supervisor starts idle and closes" +
        ("skipped" in report.session
          ? ` (skipped: ${report.session.skipped})`
          : ""),
      ignore: "skipped" in report.session,
      fn: () => {
        assertEquals(report.session, { started: "idle", closed: "closed" });
      },
    });

    await t.step({
      name: "RSA InitConnect, AES-CBC and a push against the simulator" +
        ("skipped" in report.rawSession
          ? ` (skipped: ${report.rawSession.skipped})`
          : ""),
      ignore: "skipped" in report.rawSession,
      fn: () => {
        assertEquals(report.rawSession, {
          encryption: "AES_CBC",
          status: 10,
          pushed: "KickedOut",
        });
      },
    });

    await t.step({
      name: "a client-to-simulator session" +
        ("skipped" in report.clientSession
          ? ` (skipped: ${report.clientSession.skipped})`
          : ""),
      ignore: "skipped" in report.clientSession,
      fn: () => {
        if ("skipped" in report.clientSession) return;
        assertEquals(report.clientSession.encryption, "AES_CBC");
        assert(report.clientSession.requests.includes(1002));
      },
    });
  } finally {
    await server.shutdown();
    await Deno.remove(work, { recursive: true });
  }
});
