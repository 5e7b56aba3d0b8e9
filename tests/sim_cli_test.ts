import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { fileURLToPath } from "node:url";
import {
  decodeNotification,
  decodeWsResponse,
  encodeInitWebSocketRequest,
  encodeWsRequest,
  generateRsaKeyPem,
  PacketEncAlgo,
  ProtoId,
} from "../codec/mod.ts";
import { parseSimArgs } from "../sim/main.ts";
import { OpsClient, RawClient } from "./_sim_helpers.ts";
import { TLS_FIXTURES } from "./_sdk_helpers.ts";

const MAIN = fileURLToPath(new URL("../sim/main.ts", import.meta.url));

/** Reads stdout line by line. */
class Lines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  readonly seen: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<string | undefined> {
    for (;;) {
      const i = this.#buffer.indexOf("\n");
      if (i >= 0) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 1);
        this.seen.push(line);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += value;
    }
  }

  async until(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const line = await Promise.race([
        this.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `no line matching ${pattern}; saw:\n${this.seen.join("\n")}`,
                ),
              ),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]).finally(() => clearTimeout(timer));
      if (line === undefined) {
        throw new Error(
          `stdout ended before ${pattern}; saw:\n${this.seen.join("\n")}`,
        );
      }
      if (pattern.test(line)) return line;
    }
  }

  async rest(): Promise<string> {
    while (await this.next() !== undefined) { /* drain */ }
    return this.seen.join("\n");
  }
}

function spawn(args: string[]): { child: Deno.ChildProcess; out: Lines } {
  const child = new Deno.Command(Deno.execPath(), {
    // As `deno task sim` runs it (the WebSocket server reads the environment).
    args: ["run", "--allow-net", "--allow-read", "--allow-env", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  return { child, out: new Lines(child.stdout) };
}

Deno.test("sim CLI: prints its ports first, logs events, stops cleanly on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const pemFile = `${dir}/key.pem`;
  const pem = generateRsaKeyPem(1024);
  await Deno.writeTextFile(pemFile, pem);
  const { child, out } = spawn([
    "--port=0",
    "--ops-port",
    "0",
    "--rsa",
    pemFile,
    "--phone-code",
    "777777",
    "--keep-alive-interval",
    "5",
    "--login-password",
    "hunter2",
  ]);
  try {
    const first = await out.next();
    const match = first?.match(
      /^OpenD simulator listening: api 127\.0\.0\.1:(\d+), ops 127\.0\.0\.1:(\d+)$/,
    );
    assert(match, `first line was ${first}`);
    const [port, opsPort] = [Number(match[1]), Number(match[2])];

    const client = await RawClient.connect(port, { rsaPem: pem });
    const init = await client.initConnect({
      packetEncAlgo: PacketEncAlgo.AES_CBC,
    });
    assertEquals(init.s2c?.keepAliveInterval, 5);
    assertEquals(
      (await client.request(ProtoId.KeepAlive, { time: 1 })).retType,
      0,
    );
    await client.close();
    const ops = await OpsClient.connect(opsPort);
    assertEquals(
      await ops.command("relogin -login_pwd=hunter2"),
      "relogin: OK, logging in",
    );
    await ops.close();
    await out.until(
      /InitConnect from PyNormal v300 \(Python\).*encryption AES_CBC/,
    );
    await out.until(/relogin \(password: plain\): ok/);

    child.kill("SIGTERM");
    const status = await child.status;
    assertEquals(status.code, 0);
    const log = await out.rest();
    assertStringIncludes(log, "OpenD simulator stopped");
    assert(!log.includes("hunter2"));
    assert(!log.includes("PRIVATE KEY"));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.stderr.cancel();
    await out.rest().catch(() => {});
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim CLI: a scenario starts with the first client; SIGINT stops it", async () => {
  const { child, out } = spawn([
    "--port",
    "0",
    "--ops-port",
    "off",
    "--scenario",
    "banned",
    "--time-scale",
    "0.01",
  ]);
  try {
    const first = (await out.next())!;
    assertMatch(
      first,
      /^OpenD simulator listening: api 127\.0\.0\.1:\d+, ops disabled$/,
    );
    assertEquals(
      await out.next(),
      "scenario banned starts when the first client completes InitConnect or InitWebSocket",
    );
    // The story waits for a client, then plays to it.
    const client = await RawClient.connect(Number(first.match(/:(\d+),/)![1]));
    await client.initConnect();
    const push = await client.next((p) => p.protoId === ProtoId.Notify);
    assertEquals(decodeNotification(push.body).kind, "gtwEvent");
    await out.until(/status Ready -> LoginFailed \(account banned\)/);
    await client.close();
    child.kill("SIGINT");
    assertEquals((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.stderr.cancel();
    await out.rest().catch(() => {});
    await child.status;
  }
});

async function runCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-env", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    code: output.code,
    stdout: text(output.stdout),
    stderr: text(output.stderr),
  };
}

Deno.test("sim CLI: bad arguments exit 2 with one line, never echoing a value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const notPem = `${dir}/not.pem`;
    await Deno.writeTextFile(notPem, "hunter2 is not a key\n");
    const cases: [string[], RegExp][] = [
      [["--scenario", "nope"], /^--scenario must be one of kicked-out/],
      [["--login-password"], /^--login-password needs a value/],
      [
        ["--login-pasword=hunter2"],
        /^unknown option --login-pasword; see --help$/,
      ],
      [["hunter2"], /^unexpected argument .*see --help$/],
      [
        ["--port", "0", "-hunter2"],
        /^unknown option -u; see --help$/,
      ],
      [
        ["--rsa", `${dir}/missing.pem`],
        /^--rsa .*missing\.pem: cannot read it \(ENOENT\)$/,
      ],
      [["--rsa", notPem], /^--rsa .*not\.pem: not an RSA private key in PEM$/],
      [
        ["--ws-port", "0", "--ws-tls-cert", notPem, "--ws-tls-key", notPem],
        /^--ws-tls-cert .*: not a certificate in PEM$/,
      ],
      [
        ["--ws-tls-cert", notPem],
        /^--ws-tls-cert and --ws-tls-key go together$/,
      ],
      [
        ["--ws-key-env", "SIM_TEST_SURELY_UNSET"],
        /^--ws-key-env: SIM_TEST_SURELY_UNSET is not set/,
      ],
      [["--ws-fault", "sometimes"], /^--ws-fault must be one of init-error/],
      [["--ws-port", "99999"], /^--ws-port needs a port 0\.\.65535$/],
    ];
    for (const [args, expected] of cases) {
      const { code, stdout, stderr } = await runCli(args);
      assertEquals(code, 2, args.join(" "));
      assertEquals(stdout, "");
      const lines = stderr.trimEnd().split("\n");
      assertEquals(lines.length, 1, `${args.join(" ")}: ${stderr}`);
      assertMatch(lines[0], expected);
      assert(!stderr.includes("hunter2"), stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sim CLI: --help prints the usage and exits 0", async () => {
  const { code, stdout, stderr } = await runCli(["--help"]);
  assertEquals([code, stderr], [0, ""]);
  assertStringIncludes(stdout, "Usage: deno task sim");
  assertStringIncludes(stdout, "--ws-port N|off");
  assertStringIncludes(stdout, "--ws-key-env NAME");
});

Deno.test("sim CLI: --ws-port serves the WebSocket port and logs its clients", async () => {
  const { child, out } = spawn([
    "--port=0",
    "--ops-port=off",
    "--ws-port=0",
  ]);
  try {
    const first = (await out.next())!;
    const match = first.match(
      /^OpenD simulator listening: api 127\.0\.0\.1:\d+, ops disabled, ws 127\.0\.0\.1:(\d+)$/,
    );
    assert(match, first);
    const ws = new WebSocket(`ws://127.0.0.1:${match[1]}/`);
    ws.binaryType = "arraybuffer";
    const answer = new Promise<Uint8Array>((resolve) => {
      ws.onmessage = (e) => resolve(new Uint8Array(e.data as ArrayBuffer));
    });
    await new Promise((resolve) => ws.onopen = resolve);
    ws.send(
      encodeWsRequest({
        cmd: 1,
        section: 1,
        body: encodeInitWebSocketRequest({ programmingLanguage: "JavaScript" }),
      }),
    );
    assertEquals(decodeWsResponse(await answer).error, 0);
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close();
    await closed;
    await out.until(/conn #1 opened from .* \(WebSocket ws\)/);
    await out.until(/conn #1 InitWebSocket \(JavaScript\): connID \d+, ws/);
    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.stderr.cancel();
    await out.rest().catch(() => {});
    await child.status;
  }
});

Deno.test("sim CLI: argument parsing", () => {
  const { options } = parseSimArgs([]);
  assertEquals([options.port, options.opsPort], [11111, 22222]);
  const parsed = parseSimArgs([
    "--port",
    "0",
    "--ops-port=off",
    "--status",
    "NeedPhoneVerifyCode",
    "--idle-timeout",
    "500",
  ]);
  assertEquals(parsed.options.port, 0);
  assertEquals(parsed.options.opsPort, false);
  assertEquals(parsed.options.programStatus, 4);
  assertEquals(parsed.options.idleTimeoutMs, 500);
  assertEquals(parseSimArgs(["--help"]).help, true);
  assertThrows(() => parseSimArgs(["--port", "70000"]), Error, "port");
  assertThrows(
    () => parseSimArgs(["--keep-alive-interval", "0"]),
    Error,
    ">= 1",
  );
  assertThrows(() => parseSimArgs(["--status", "Sleepy"]), Error, "--status");
  const error = assertThrows(() => parseSimArgs(["hunter2"]));
  assert(!(error as Error).message.includes("hunter2"));
  assertThrows(
    () => parseSimArgs(["--rsa", "/definitely/not/here.pem"]),
    Error,
    "cannot read",
  );
  const ws = parseSimArgs([
    "--ws-port",
    "0",
    "--ws-tls-cert",
    TLS_FIXTURES.cert,
    "--ws-tls-key",
    TLS_FIXTURES.key,
    "--ws-key-refusal",
    "silent",
    "--ws-fault=bad-sign",
  ]).options;
  assertEquals(
    [ws.wsPort, ws.wsKeyRefusal, ws.wsFault],
    [0, "silent", "bad-sign"],
  );
  assertStringIncludes(String(ws.wsTls?.cert), "BEGIN CERTIFICATE");
  assertEquals(parseSimArgs(["--ws-port", "off"]).options.wsPort, false);
  assertEquals(parseSimArgs([]).options.wsPort, undefined);
});

Deno.test("sim CLI: --login-password-env reads the password from the environment, and an unknown option is named", () => {
  Deno.env.set("SIM_TEST_LOGIN_PWD", "from-the-env");
  try {
    assertEquals(
      parseSimArgs(["--login-password-env", "SIM_TEST_LOGIN_PWD"]).options
        .loginPassword,
      "from-the-env",
    );
  } finally {
    Deno.env.delete("SIM_TEST_LOGIN_PWD");
  }
  Deno.env.set("SIM_TEST_WS_KEY", "ws-key-from-the-env");
  try {
    assertEquals(
      parseSimArgs(["--ws-key-env=SIM_TEST_WS_KEY"]).options.wsKey,
      "ws-key-from-the-env",
    );
  } finally {
    Deno.env.delete("SIM_TEST_WS_KEY");
  }
  assertThrows(
    () => parseSimArgs(["--login-password-env", "SIM_TEST_UNSET"]),
    Error,
    "is not set",
  );
  assertThrows(
    () => parseSimArgs(["--bogus"]),
    Error,
    "unknown option --bogus",
  );
  assertThrows(() => parseSimArgs(["s3cret"]), Error, "unexpected argument");
});
