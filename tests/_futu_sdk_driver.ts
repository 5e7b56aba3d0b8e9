/**
 * Runs Futu's official JavaScript SDK (npm `futu-api`, unchanged) in its own
 * process, so a test can give it a CA with `--cert` for `wss://` and keep
 * the SDK's console chatter out of the test output.
 *
 * ```sh
 * deno run --allow-net [--cert CA] tests/_futu_sdk_driver.ts HOST PORT ws|wss [KEY]
 * ```
 *
 * stdout: one JSON object a line: `{ event: "login", ok, connID?, error? }`,
 * `{ event: "push", cmd, message }`, `{ event: "close", code }`,
 * `{ event: "result", id, ok, message }`. stdin: one JSON command a line:
 * `{ id, call: "GetGlobalState" | "KeepAlive" }`,
 * `{ id, call: "Verification", args: { type, op, code } }` or `{ call: "exit" }`.
 * Messages are the SDK's own decoded objects as JSON (enums as names,
 * 64-bit integers as strings).
 * @module
 */
// deno-lint-ignore no-import-prefix -- test-only: kept out of deno.json so `deno task demo` never fetches it
import ftWebsocket from "npm:futu-api@10.11.7108";

const [host, port, scheme, key] = Deno.args;
const encoder = new TextEncoder();
const say = (line: Record<string, unknown>) =>
  Deno.stdout.writeSync(encoder.encode(`${JSON.stringify(line)}\n`));
// The SDK logs with console.log and console.debug; stdout is for results.
for (const name of ["log", "debug", "info", "warn"] as const) {
  console[name] = (...args: unknown[]) => console.error(...args);
}

interface Sdk {
  onlogin: (ok: boolean, message: unknown) => void;
  onPush: (cmd: number, message: unknown) => void;
  start(ip: string, port: number, ssl: boolean, key?: string | null): void;
  getConnID(): unknown;
  GetGlobalState(request: unknown): Promise<unknown>;
  _sendCmd(cmd: number, request: unknown, name: string): Promise<unknown>;
  websock: {
    close(): void;
    websock: { onclose: ((e: { code: number }) => void) | null } | null;
    onclose?: (e: { code: number }) => void;
  };
}

const sdk = new (ftWebsocket as unknown as new () => Sdk)();
sdk.onlogin = (ok, message) => {
  say(
    ok
      ? { event: "login", ok, connID: String(sdk.getConnID()) }
      : { event: "login", ok, error: message },
  );
};
sdk.onPush = (cmd, message) => say({ event: "push", cmd, message });
sdk.start(host, Number(port), scheme === "wss", key ?? null);
// The SDK's base object reports every close of its socket (it reconnects after 1 s).
sdk.websock.onclose = (e) => say({ event: "close", code: e.code });

const calls: Record<string, (args?: unknown) => Promise<unknown>> = {
  GetGlobalState: () => sdk.GetGlobalState({ c2s: { userID: 0 } }),
  // Nor a Verification method, though it ships the schema.
  Verification: (c2s) => sdk._sendCmd(1006, { c2s }, "Verification"),
  // The SDK has no KeepAlive method of its own: its generic sender is the way.
  KeepAlive: () =>
    sdk._sendCmd(
      1004,
      { c2s: { time: Math.floor(Date.now() / 1000) } },
      "KeepAlive",
    ),
};

const decoder = new TextDecoder();
let pending = "";
for await (const chunk of Deno.stdin.readable) {
  pending += decoder.decode(chunk, { stream: true });
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const command = JSON.parse(pending.slice(0, newline));
    pending = pending.slice(newline + 1);
    if (command.call === "exit") {
      sdk.websock.close();
      Deno.exit(0);
    }
    const call = calls[command.call];
    void call(command.args).then(
      (message) => say({ event: "result", id: command.id, ok: true, message }),
      (message) => say({ event: "result", id: command.id, ok: false, message }),
    );
  }
}
Deno.exit(0);
