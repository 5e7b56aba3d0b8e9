import { assert, assertEquals } from "@std/assert";
import { createServer, type Socket } from "node:net";
import { GtwEventType, startSimulator } from "../mod.ts";
import { typedLines } from "../cli/watch.ts";

/** Spawns `watch` and collects its output lines; `waitFor` resolves on the first line matching. */
function spawnWatch(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL("../cli/watch.ts", import.meta.url).pathname,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const output: string[] = [];
  const waiters: Array<
    { test: (line: string) => boolean; resolve: (line: string) => void }
  > = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        output.push(line);
        for (const waiter of waiters.splice(0)) {
          if (waiter.test(line)) waiter.resolve(line);
          else waiters.push(waiter);
        }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  return {
    output,
    waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
      const seen = output.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${pattern} in:\n${output.join("\n")}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          test: (line) => pattern.test(line),
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    type: (text: string) => writer.write(new TextEncoder().encode(text)),
    async stop({ kill = true }: { kill?: boolean } = {}) {
      if (kill) child.kill("SIGTERM");
      const status = await child.status;
      await writer.close().catch(() => {});
      await reading;
      return { code: status.code, stderr: await stderr };
    },
  };
}

Deno.test("watch shows OpenD's status, asks for a phone code on the terminal, and submits what is typed", async () => {
  await using sim = await startSimulator({
    port: 0,
    opsPort: false,
    phoneCode: "135790",
    loginDelayMs: 50,
  });
  const watch = spawnWatch(["--port", String(sim.address.port)]);
  try {
    await watch.waitFor(/gateway -> Ready/);
    sim.requireVerification("phone");
    await watch.waitFor(/OpenD needs a phone code.*type it and press Enter/);
    await watch.type("135790\n");
    await watch.waitFor(/code submitted/);
    await sim.waitFor("codeAccepted", undefined, { timeoutMs: 10_000 });
    await watch.waitFor(/client +ready/);
  } finally {
    const { code, stderr } = await watch.stop();
    assertEquals(code, 0, stderr);
  }
  assert(!watch.output.join("\n").includes("135790\n"));
});

Deno.test("watch relogs in with the password from the environment after LoginPwdChanged, never printing it", async () => {
  await using sim = await startSimulator({
    port: 0,
    opsPort: 0,
    loginDelayMs: 50,
  });
  const watch = spawnWatch(
    [
      "--port",
      String(sim.address.port),
      "--ops-port",
      String(sim.address.opsPort),
    ],
    { OPEND_LOGIN_PWD: "s3cret-new-password" },
  );
  try {
    await watch.waitFor(/gateway -> Ready/);
    sim.setAccount({ password: "s3cret-new-password" });
    sim.forceLogout(GtwEventType.LoginPwdChanged, "login password changed");
    await watch.waitFor(/with the password from \$OPEND_LOGIN_PWD/);
    await sim.waitFor("relogin", (e) => e.ok, { timeoutMs: 10_000 });
    await watch.waitFor(/client +ready/);
  } finally {
    const { code, stderr } = await watch.stop();
    assertEquals(code, 0, stderr);
    assert(!stderr.includes("s3cret-new-password"));
  }
  assert(!watch.output.join("\n").includes("s3cret-new-password"));
});

Deno.test("watch exits 1 when OpenD reports a fatal event (BanLogin)", async () => {
  await using sim = await startSimulator({
    port: 0,
    opsPort: false,
    loginDelayMs: 50,
  });
  const watch = spawnWatch(["--port", String(sim.address.port)]);
  await watch.waitFor(/gateway -> Ready/);
  sim.pushGtwEvent(GtwEventType.BanLogin, "account banned");
  await watch.waitFor(/fatal/);
  const { code, stderr } = await watch.stop({ kill: false });
  assertEquals(code, 1, `${stderr}\n${watch.output.join("\n")}`);
});

Deno.test("watch names its own options in argument errors", async () => {
  for (
    const [args, message] of [
      [
        ["--port", "0"],
        "--port and --ops-port take a port number (1 to 65535)",
      ],
      [
        ["--algo", "aes_cbc"],
        "--algo aes_cbc needs --rsa: OpenD encrypts only with its RSA key",
      ],
      [["--algo", "rot13"], "--algo must be aes_cbc, ftaes_ecb or none"],
      [["--chek"], "unknown option --chek"],
    ] as const
  ) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        new URL("../cli/watch.ts", import.meta.url).pathname,
        ...args,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(code, 2);
    assertEquals(
      new TextDecoder().decode(stderr),
      `watch: ${message} (see --help)\n`,
    );
  }
});

Deno.test("watch stops with exit 1 and one sentence when the port does not speak OpenD's protocol", async () => {
  // A web server where OpenD should be: no retry will ever fix that.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const watch = spawnWatch(["--port", String(port)]);
  // Never hang the suite: three failures take a few seconds at most.
  const timer = setTimeout(() => watch.stop(), 30_000);
  try {
    const { code, stderr } = await watch.stop({ kill: false });
    assertEquals(code, 1, stderr);
    const lines = stderr.trim().split("\n");
    assertEquals(lines.length, 1, stderr);
    assert(
      /^watch: gave up on OpenD at 127\.0\.0\.1:\d+: the port does not speak OpenD's protocol: 3 failures in a row that no retry can fix \(last: .*BAD_MAGIC/
        .test(lines[0]),
      lines[0],
    );
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

Deno.test("watch reads a code as a raw terminal sends it: Enter, Backspace and Ctrl+U edit, Ctrl+D ends", async () => {
  const typed = (text: string) =>
    Array.fromAsync(typedLines((async function* () {
      for (const part of text.split("|")) {
        yield new TextEncoder().encode(part);
      }
    })()));
  assertEquals(await typed("1234\r56|78\r\n"), ["1234", "5678"]);
  assertEquals(await typed("13\x7f57\b9\r"), ["159"]);
  assertEquals(await typed("wrong\x15right\n"), ["right"]);
  assertEquals(await typed("\r\n\n"), ["", ""]);
  assertEquals(await typed("42\r\x04ignored\r"), ["42"]);
  assertEquals(await typed("no newline"), ["no newline"]);
});
