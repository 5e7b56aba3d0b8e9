/**
 * `deno task watch --host H --port P [--ops-port N] [--rsa PEM_FILE]`:
 * connects to a real OpenD and shows its live status as a timeline, asking
 * on the terminal for a verification code when OpenD needs one.
 *
 * The login password for a relogin (after LoginPwdChanged, say) is read from
 * the environment variable named by `--password-env` (default
 * `OPEND_LOGIN_PWD`), never from the command line, and never printed.
 * Ctrl+C closes the connection gracefully.
 * @module
 */
import { createOpenDClient, type OpenDClient } from "../mod.ts";
import { createTimeline, followClient, wantsColor } from "./_timeline.ts";
import { parseCommandLine, refuse } from "./_args.ts";
import { checkClientFlags, CLIENT_FLAGS } from "./_client_flags.ts";

const USAGE = `Usage: deno task watch [--host H] [--port P] [options]
Connects to OpenD and shows its live status; asks here for verification codes.
  --host H              OpenD's host (default 127.0.0.1)
  --port P              OpenD's API port (default 11111)
  --ops-port N          OpenD's operations (telnet) port, for relogin without a person
  --rsa PEM_FILE        the RSA private key configured in OpenD (encrypts the session)
  --algo MODE           aes_cbc | ftaes_ecb | none (default aes_cbc with --rsa)
  --json                protobuf JSON bodies instead of protobuf
  --picture-path PATH   where OpenD saves the picture code (shown when one is needed)
  --password-env NAME   environment variable holding the login password (default OPEND_LOGIN_PWD)
  --notifications       also print every OpenD notification
  --help                this text
Type a code and Enter at any time to submit it (it is not shown, like a
password); Ctrl+C to quit.`;

const COMMAND = "watch";

/**
 * The lines typed into a byte stream, as a terminal in raw mode delivers
 * them: Enter (CR or LF) ends a line, Backspace and Ctrl+U edit it, Ctrl+D on
 * an empty line ends the input. Reading never blocks timers, so keep-alives go
 * on while a person types.
 */
export async function* typedLines(
  stream: AsyncIterable<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let line = "";
  let lastWasCr = false;
  for await (const chunk of stream) {
    for (const char of decoder.decode(chunk, { stream: true })) {
      const wasCr = lastWasCr;
      lastWasCr = char === "\r";
      if (char === "\r" || char === "\n") {
        if (char === "\n" && wasCr) continue; // CRLF is one Enter
        yield line;
        line = "";
      } else if (char === "\x7f" || char === "\b") {
        line = [...line].slice(0, -1).join("");
      } else if (char === "\x15") {
        line = "";
      } else if (char === "\x04") {
        if (line === "") return;
      } else if (char >= " ") {
        line += char;
      }
    }
  }
  if (line !== "") yield line;
}

/**
 * Codes typed on stdin. On a terminal, echo is off while watch runs (raw
 * mode with signals kept, so Ctrl+C still quits): a verification code is a
 * secret, and a shared screen or a terminal recording must not show it.
 */
function typedCodes(): { lines: AsyncGenerator<string>; restore(): void } {
  const terminal = Deno.stdin.isTerminal();
  if (terminal) Deno.stdin.setRaw(true, { cbreak: true });
  return {
    lines: typedLines(Deno.stdin.readable),
    restore() {
      if (terminal) Deno.stdin.setRaw(false);
    },
  };
}

/** Runs the command line; resolves to the exit status. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, {
    args,
    options: {
      ...CLIENT_FLAGS,
      notifications: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const flags = checkClientFlags(values);
  if (typeof flags === "string") return refuse(COMMAND, flags);

  const timeline = createTimeline((line) => console.log(line), wantsColor());
  let client: OpenDClient;
  try {
    const rsaPrivateKey = values.rsa === undefined
      ? undefined
      : await Deno.readTextFile(values.rsa);
    const passwordEnv = values["password-env"];
    client = createOpenDClient({
      ...flags,
      rsaPrivateKey,
      autoStart: false,
      credentialsProvider: ({ reason }) => {
        const password = Deno.env.get(passwordEnv);
        timeline.say(
          "you",
          password ? "person" : "bad",
          password
            ? `relogin (${reason}) with the password from $${passwordEnv}`
            : `relogin needed (${reason}), but $${passwordEnv} is not set`,
        );
        return password ? { password } : undefined;
      },
    });
  } catch (error) {
    return refuse(COMMAND, (error as Error).message);
  }

  followClient(client, timeline, { notifications: values.notifications });
  const unseen = Deno.stdin.isTerminal() ? " (it is not shown)" : "";
  client.on("needsCode", ({ kind, picturePath, attempt }) => {
    const where = picturePath ? ` (picture saved at ${picturePath})` : "";
    timeline.say(
      "you",
      "person",
      `OpenD needs a ${kind} code${where}, attempt ${attempt}: type it and press Enter${unseen}`,
    );
  });

  // Codes typed at any time go to the supervisor.
  const codes = typedCodes();
  const typing = (async () => {
    for await (const line of codes.lines) {
      const code = line.trim();
      if (code === "") continue;
      if (client.submitCode(code)) {
        timeline.say("you", "person", "code submitted");
      } else timeline.say("you", "person", "no code is needed right now");
    }
  })().catch(() => {});

  const stop = Promise.withResolvers<void>();
  const onSignal = () => stop.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  client.on("fatal", () => stop.resolve());
  // Reconnecting stopped (a failure no retry can fix, say a wrong host or
  // RSA key): say so in one sentence and exit 1.
  let stopped: string | undefined;
  client.on("stopped", ({ reason }) => {
    stopped = reason;
    stop.resolve();
  });

  try {
    timeline.say(
      "watch",
      "story",
      `connecting to OpenD at ${client.address}`,
    );
    client.start();
    await stop.promise;
    // The signal listeners stay: a second Ctrl+C while closing must not kill
    // the process before the socket is closed.
    const fatal = client.describe().fatal;
    await client.close();
    void typing;
    if (stopped !== undefined && !fatal) {
      console.error(`watch: gave up on OpenD at ${client.address}: ${stopped}`);
      return 1;
    }
    return fatal ? 1 : 0;
  } finally {
    // Echo back on, whatever happened: the terminal outlives this process.
    codes.restore();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
