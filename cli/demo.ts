/**
 * `deno task demo`: an OpenD simulator and a client in one process, playing
 * the story an unattended OpenD lives through, printed as a timeline.
 *
 * Ready; another device logs in and OpenD is kicked out; after a cool-down
 * the client logs in again, OpenD asks for a phone code, a scripted person
 * types it, Ready; OpenD restarts, the client backs off 1 s, 2 s, 4 s and is
 * Ready again. Everything speaks the real wire protocol over loopback, with
 * an RSA-encrypted InitConnect and AES-CBC bodies. Ends by itself in about
 * 15 seconds. Colour on a terminal; none with NO_COLOR or when piped.
 *
 * The demo changes one rule of the default reaction policy, and says so:
 * KickedOut becomes `reloginAfterCooldown` (the default leaves a kicked-out
 * OpenD alone). The code the scripted person types is never printed.
 * @module
 */
import {
  createOpenDClient,
  defaultPolicy,
  describeSimEvent,
  generateRsaKeyPem,
  GtwEventType,
  type OpenDClient,
  type OpenDSimulator,
  type SimEvent,
  startSimulator,
} from "../mod.ts";
import { createTimeline, followClient, wantsColor } from "./_timeline.ts";
import { parseCommandLine, refuse } from "./_args.ts";

const PHONE_CODE = "246810";

/** How the timeline is written. */
export interface DemoOptions {
  /** Writes one line (default: stdout). */
  write?: (line: string) => void;
  /** ANSI colours (default: stdout is a terminal and NO_COLOR is unset). */
  color?: boolean;
  /**
   * Multiplies every pause and delay of the story: the person, OpenD's
   * login, the cool-down, the backoff and the restart (default 1; 0.25
   * plays it four times faster).
   */
  timeScale?: number;
}

/** What the story did, for the closing summary and for tests. */
export interface DemoResult {
  /** Wall-clock duration in milliseconds. */
  elapsedMs: number;
  /** API connections the simulated OpenD accepted. */
  connections: number;
  /** Phone codes the client asked OpenD to send. */
  codeRequests: number;
  /** Relogins sent through the operations port. */
  relogins: number;
  /** Reconnect delays the client waited, in order. */
  reconnectDelaysMs: number[];
  /** Whether anything ever sent `exit` to the operations port (never). */
  exitSent: boolean;
  /** Whether the client ended Ready. */
  endedReady: boolean;
}

// The simulated OpenD's side of the story, as the timeline tells it; request
// and connection chatter is left out.
const OPEND_EVENTS = new Set<SimEvent["type"]>([
  "initConnect",
  "statusChanged",
  "notificationPushed",
  "connectionsDropped",
  "verificationRequested",
  "codeAccepted",
  "codeRejected",
  "relogin",
  "opsCommand",
  "opsExitRefused",
  "restarting",
  "restarted",
  "accountChanged",
]);

/**
 * Plays the story; resolves with what happened once everything is closed.
 *
 * @example
 * ```ts ignore
 * import { runDemo } from "./demo.ts";
 * const result = await runDemo({ color: false });
 * console.log(result.reconnectDelaysMs); // [1000, 2000, 4000]
 * ```
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const write = options.write ?? ((line: string) => console.log(line));
  const scale = options.timeScale ?? 1;
  const started = performance.now();
  const timeline = createTimeline(write, options.color ?? wantsColor());
  const { chapter, paint, say } = timeline;
  const pause = (ms: number) =>
    new Promise((resolve) => setTimeout(resolve, ms * scale));

  const rsaPrivateKey = generateRsaKeyPem(1024);
  const result: DemoResult = {
    elapsedMs: 0,
    connections: 0,
    codeRequests: 0,
    relogins: 0,
    reconnectDelaysMs: [],
    exitSent: false,
    endedReady: false,
  };

  let sim: OpenDSimulator | undefined;
  let client: OpenDClient | undefined;
  try {
    sim = await startSimulator({
      port: 0,
      opsPort: 0,
      rsaPrivateKey,
      phoneCode: PHONE_CODE,
      keepAliveInterval: 2,
      loginDelayMs: 400 * scale,
      onEvent: (event) => {
        if (event.type === "initConnect") result.connections++;
        if (event.type === "verificationRequested" && event.ok) {
          result.codeRequests++;
        }
        if (event.type === "relogin") result.relogins++;
        if (event.type === "opsExitRefused") result.exitSent = true;
        if (OPEND_EVENTS.has(event.type)) {
          say("OpenD", "opend", describeSimEvent(event));
        }
      },
    });
    const { port, opsPort } = sim.address;
    write(
      paint(
        "story",
        "opend-machine demo: a simulated OpenD and a client, over loopback",
      ),
    );
    write(
      `OpenD simulator: api 127.0.0.1:${port}, ops 127.0.0.1:${opsPort}; RSA InitConnect, then AES-CBC`,
    );
    write(
      `Policy: KickedOut changed from the default \`${defaultPolicy.gtwEvents.KickedOut.reaction}\` ` +
        "(leave the other login alone) to `reloginAfterCooldown`, " +
        "so the story can show a relogin and a phone code; " +
        "every other rule is the default.",
    );

    client = createOpenDClient({
      port,
      opsPort,
      rsaPrivateKey,
      autoStart: false,
      // The default is to leave a kicked-out OpenD alone; this deployment
      // takes the login back after a short cool-down.
      policy: {
        KickedOut: {
          reaction: "reloginAfterCooldown",
          cooldownMs: 2_000 * scale,
        },
      },
      reconnect: {
        baseMs: 1_000 * scale,
        capMs: 8_000 * scale,
        stableMs: 1_000 * scale,
      },
      // No jitter, so the backoff reads 1 s, 2 s, 4 s; a second online resets it.
      session: { random: () => 1 },
      codeProvider: async ({ kind, attempt }) => {
        say(
          "person",
          "person",
          `reads the ${kind} code from the SMS (attempt ${attempt}) ...`,
        );
        await pause(1_500);
        // A code is a secret: the timeline says one was typed, never which.
        say("person", "person", `types the ${kind} code`);
        return PHONE_CODE;
      },
    });
    followClient(client, timeline);
    client.on(
      "reconnecting",
      (event) => result.reconnectDelaysMs.push(event.delayMs),
    );

    chapter("1. Start: connect, InitConnect (RSA), GetGlobalState, Ready");
    client.start();
    await client.whenReady(20_000);
    await pause(1_500);

    chapter(
      "2. Another device logs in: OpenD is kicked out and drops every API connection",
    );
    sim.setAccount({ deviceLock: true });
    sim.forceLogout(
      GtwEventType.KickedOut,
      "Account logged in on another device",
    );
    await sim.waitFor("codeAccepted", undefined, { timeoutMs: 30_000 });
    await client.whenReady(20_000);
    sim.setAccount({ deviceLock: false });
    await pause(1_500);

    chapter(
      "3. OpenD restarts: down for 6 s, the client backs off and comes back",
    );
    await sim.restart(6_000 * scale);
    await sim.waitFor("restarted", undefined, { timeoutMs: 30_000 });
    await client.whenReady(30_000);
    result.endedReady = client.describe().ready;

    chapter("Done");
  } finally {
    await client?.close();
    await sim?.close();
  }
  result.elapsedMs = Math.round(performance.now() - started);
  write(
    `${paint("good", "Ready")} after ${
      (result.elapsedMs / 1000).toFixed(1)
    } s: ` +
      `${result.connections} connections, ${result.codeRequests} phone code request, ` +
      `${result.relogins} relogin, reconnect delays ${
        result.reconnectDelaysMs.map((ms) => `${ms / 1000} s`).join(", ")
      }, exit never sent to OpenD.`,
  );
  return result;
}

const USAGE = `Usage: deno task demo [--time-scale X]
Plays, in about 15 seconds, the story an unattended OpenD lives through: a
simulated OpenD and a client over loopback (kicked out, relogin, phone code,
OpenD restart and backoff), printed as a timeline.
  --time-scale X   multiplies every pause and delay (default 1; 0.25 = 4x faster)
  -h, --help       this text
Colour on a terminal; none with NO_COLOR or when piped.`;

if (import.meta.main) {
  const parsed = parseCommandLine("demo", {
    args: Deno.args,
    options: {
      "time-scale": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") Deno.exit(parsed);
  if (parsed.values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const timeScale = Number(parsed.values["time-scale"] ?? 1);
  if (!(timeScale > 0 && timeScale <= 10)) {
    Deno.exit(refuse("demo", "--time-scale takes a number above 0, up to 10"));
  }
  try {
    await runDemo({ timeScale });
  } catch (error) {
    console.error(
      `demo failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    Deno.exit(1);
  }
}
