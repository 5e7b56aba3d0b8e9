/**
 * The simulator as a program, so any OpenD SDK (the official Python one
 * included) can be pointed at it:
 *
 * ```sh
 * deno task sim [--port N] [--ops-port N|off] [--ws-port N|off] [--rsa PEM_FILE]
 *               [--scenario NAME] [--phone-code C] [--pic-code C] ...
 * ```
 *
 * The first line printed says where it listens, e.g.
 * `OpenD simulator listening: api 127.0.0.1:11111, ops 127.0.0.1:22222`;
 * then one line per event. A `--scenario` starts when the first client
 * completes InitConnect, so the SDK under test sees the whole story.
 * SIGINT or SIGTERM stops it cleanly (exit code 0).
 * Bad arguments exit with code 2 and one line on stderr. Runs in Deno and
 * Node (>= 20).
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { RsaKey } from "../codec/rsa.ts";
import {
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import { formatSimEvent, WS_FAULTS, type WsFault } from "./events.ts";
import {
  isScenarioName,
  SCENARIO_NAMES,
  type ScenarioName,
} from "./scenarios.ts";
import {
  type OpenDSimulator,
  type SimulatorOptions,
  startSimulator,
} from "./simulator.ts";

/** OpenD's own default ports, used when none is given. */
export const DEFAULT_CLI_PORTS = { port: 11111, opsPort: 22222 } as const;

/** The usage text. */
export const USAGE = `Usage: deno task sim [options]

  --host H                  interface to listen on (default 127.0.0.1)
  --port N                  API port (default 11111; 0 picks a free one)
  --ops-port N|off          operations (telnet) port (default 22222; 0 picks one)
  --ws-port N|off           WebSocket port for the JavaScript SDK (default off; OpenD often uses 33333)
  --ws-tls-cert PEM_FILE    certificate for the WebSocket port: it then speaks wss:// only
  --ws-tls-key PEM_FILE     the certificate's private key (with --ws-tls-cert)
  --ws-key-env NAME         WebSocket key, read from environment variable NAME (not visible in ps)
  --ws-key-refusal MODE     a wrong key gets: error (an error answer, default) or silent (no answer)
  --ws-fault MODE           WebSocket fault mode: ${WS_FAULTS.join(", ")}
  --rsa PEM_FILE            RSA private key shared with clients (enables encryption)
  --scenario NAME           run a named scenario: ${SCENARIO_NAMES.join(", ")}
  --time-scale X            scenario speed factor for delays (default 1; 0.1 = 10x faster)
  --status NAME             initial program status (default Ready)
  --phone-code C            phone verification code accepted (default 123456)
  --pic-code C              picture verification code accepted (default 1234)
  --login-password P        account password checked by relogin (never printed)
  --login-password-env NAME the same, read from environment variable NAME (not visible in ps)
  --keep-alive-interval S   keepAliveInterval returned by InitConnect (default 10)
  --idle-timeout MS         drop TCP API connections silent this long (default 30000)
  --login-delay MS          how long Loging lasts (default 200)
  --help                    this text`;

/** What the command line asks for. */
export interface SimCliArgs {
  /** Options for {@link startSimulator}. */
  options: SimulatorOptions;
  /** `--help` was given. */
  help: boolean;
}

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "ops-port": { type: "string" },
  "ws-port": { type: "string" },
  "ws-tls-cert": { type: "string" },
  "ws-tls-key": { type: "string" },
  "ws-key-env": { type: "string" },
  "ws-key-refusal": { type: "string" },
  "ws-fault": { type: "string" },
  rsa: { type: "string" },
  scenario: { type: "string" },
  "time-scale": { type: "string" },
  status: { type: "string" },
  "phone-code": { type: "string" },
  "pic-code": { type: "string" },
  "login-password": { type: "string" },
  "login-password-env": { type: "string" },
  "keep-alive-interval": { type: "string" },
  "idle-timeout": { type: "string" },
  "login-delay": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const FLAG_NAME = /^--?[A-Za-z][A-Za-z0-9-]*$/;

/**
 * parseArgs' own messages may quote a value (a password given as a stray
 * argument) or run over several lines: this says the same in one line,
 * naming options only.
 */
function argumentError(error: unknown): Error {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /'(-[^' ,]*)/.exec(message ?? "")?.[1] ??
    /'-\w, (--[^' ]*)/.exec(message ?? "")?.[1];
  const flag = quoted !== undefined && FLAG_NAME.test(quoted)
    ? quoted
    : undefined;
  const name = /'(?:-\w, )?(--[A-Za-z0-9-]+)/.exec(message ?? "")?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new Error(
        flag === undefined
          ? "unknown option; see --help"
          : `unknown option ${flag}; see --help`,
      );
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new Error(
        "unexpected argument (every option starts with --); see --help",
      );
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (name !== undefined && /does not take/.test(message ?? "")) {
        return new Error(`${name} takes no value`);
      }
      return new Error(
        name === undefined
          ? "an option needs a value; see --help"
          : `${name} needs a value (write ${name}=VALUE for one starting with -)`,
      );
    default:
      return new Error("cannot read the arguments; see --help");
  }
}

function number(flag: string, text: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min) {
    throw new Error(`${flag} needs a number >= ${min}`);
  }
  return n;
}

function port(flag: string, text: string): number {
  const n = number(flag, text);
  if (!Number.isInteger(n) || n > 65535) {
    throw new Error(`${flag} needs a port 0..65535`);
  }
  return n;
}

function portOrOff(flag: string, text: string): number | false {
  return text === "off" ? false : port(flag, text);
}

/** Reads a PEM file for `flag`; every failure says `FLAG FILE: why`, one line. */
function pemFile(
  flag: string,
  file: string,
  check: (text: string) => unknown,
  what: string,
): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(
      `${flag} ${file}: cannot read it (${
        (error as { code?: string }).code ?? "error"
      })`,
    );
  }
  try {
    check(text);
  } catch {
    throw new Error(`${flag} ${file}: not ${what} in PEM`);
  }
  return text;
}

function fromEnv(flag: string, name: string, what: string): string {
  const value = name === "" ? undefined : process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${flag}: ${name || "(empty)"} is not set (${what})`);
  }
  return value;
}

/**
 * Parses the command line. Throws `Error` with a one-line message for a
 * bad argument; the message names options, never a value given by mistake.
 *
 * @example
 * ```ts
 * import { parseSimArgs } from "./main.ts";
 * parseSimArgs(["--port", "0", "--ops-port", "off"]).options; // { port: 0, opsPort: false, ... }
 * ```
 */
export function parseSimArgs(argv: readonly string[]): SimCliArgs {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw argumentError(error);
  }
  const text = (key: keyof typeof OPTIONS): string | undefined => {
    const v = values[key];
    return typeof v === "string" ? v : undefined;
  };
  const options: SimulatorOptions = { ...DEFAULT_CLI_PORTS };
  const help = values.help === true;
  const host = text("host");
  if (host !== undefined) {
    if (host === "") throw new Error("--host needs a value");
    options.host = host;
  }
  const p = text("port");
  if (p !== undefined) options.port = port("--port", p);
  const ops = text("ops-port");
  if (ops !== undefined) options.opsPort = portOrOff("--ops-port", ops);
  const ws = text("ws-port");
  if (ws !== undefined) options.wsPort = portOrOff("--ws-port", ws);
  const cert = text("ws-tls-cert");
  const key = text("ws-tls-key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error("--ws-tls-cert and --ws-tls-key go together");
  }
  if (cert !== undefined && key !== undefined) {
    options.wsTls = {
      cert: pemFile(
        "--ws-tls-cert",
        cert,
        (t) => new X509Certificate(t),
        "a certificate",
      ),
      key: pemFile(
        "--ws-tls-key",
        key,
        (t) => createPrivateKey(t),
        "a private key",
      ),
    };
  }
  const wsKeyEnv = text("ws-key-env");
  if (wsKeyEnv !== undefined) {
    options.wsKey = fromEnv("--ws-key-env", wsKeyEnv, "the WebSocket key");
  }
  const refusal = text("ws-key-refusal");
  if (refusal !== undefined) {
    if (refusal !== "error" && refusal !== "silent") {
      throw new Error("--ws-key-refusal must be error or silent");
    }
    options.wsKeyRefusal = refusal;
  }
  const fault = text("ws-fault");
  if (fault !== undefined) {
    if (!(WS_FAULTS as readonly string[]).includes(fault)) {
      throw new Error(`--ws-fault must be one of ${WS_FAULTS.join(", ")}`);
    }
    options.wsFault = fault as WsFault;
  }
  const rsa = text("rsa");
  if (rsa !== undefined) {
    if (rsa === "") throw new Error("--rsa needs a PEM file");
    options.rsaPrivateKey = pemFile(
      "--rsa",
      rsa,
      (t) => RsaKey.fromPem(`${t.trim()}\n`),
      "an RSA private key",
    );
  }
  const scenario = text("scenario");
  if (scenario !== undefined) {
    if (!isScenarioName(scenario)) {
      throw new Error(`--scenario must be one of ${SCENARIO_NAMES.join(", ")}`);
    }
    options.scenario = scenario as ScenarioName;
  }
  const scale = text("time-scale");
  if (scale !== undefined) {
    options.scenarioTimeScale = number("--time-scale", scale);
  }
  const status = text("status");
  if (status !== undefined) {
    const type = ProgramStatusType[status as ProgramStatusTypeName];
    if (type === undefined) {
      throw new Error(
        `--status must be one of ${Object.keys(ProgramStatusType).join(", ")}`,
      );
    }
    options.programStatus = type;
  }
  const phone = text("phone-code");
  if (phone !== undefined) {
    if (phone === "") throw new Error("--phone-code needs a value");
    options.phoneCode = phone;
  }
  const pic = text("pic-code");
  if (pic !== undefined) {
    if (pic === "") throw new Error("--pic-code needs a value");
    options.pictureCode = pic;
  }
  const password = text("login-password");
  if (password !== undefined) options.loginPassword = password;
  const passwordEnv = text("login-password-env");
  if (passwordEnv !== undefined) {
    options.loginPassword = fromEnv(
      "--login-password-env",
      passwordEnv,
      "the login password",
    );
  }
  const keepAlive = text("keep-alive-interval");
  if (keepAlive !== undefined) {
    const n = number("--keep-alive-interval", keepAlive, 1);
    if (!Number.isInteger(n)) {
      throw new Error("--keep-alive-interval needs whole seconds");
    }
    options.keepAliveInterval = n;
  }
  const idle = text("idle-timeout");
  if (idle !== undefined) {
    options.idleTimeoutMs = number("--idle-timeout", idle, 1);
  }
  const delay = text("login-delay");
  if (delay !== undefined) {
    options.loginDelayMs = number("--login-delay", delay);
  }
  return { options, help };
}

/** Runs the program with `argv` (without the runtime and script paths). */
export async function main(argv: readonly string[]): Promise<void> {
  let parsed: SimCliArgs;
  try {
    parsed = parseSimArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { scenario, scenarioTimeScale, ...options } = parsed.options;
  let started = false;
  let pending = scenario;
  // Events may come before startSimulator resolves: they find it here.
  const ref: { sim?: OpenDSimulator } = {};
  const startScenario = () => {
    if (pending === undefined || ref.sim === undefined) return;
    ref.sim.runScenario(pending, { timeScale: scenarioTimeScale });
    pending = undefined;
  };
  const sim = await startSimulator({
    ...options,
    // The listening line comes first and once; the event log after it.
    log: (line) => {
      if (started) process.stdout.write(`${line}\n`);
    },
    // A story told before anyone listens is lost: it starts with the first client.
    onEvent: (event) => {
      if (event.type === "initConnect") queueMicrotask(startScenario);
    },
  }).catch((error: Error & { code?: string }) => {
    process.stderr.write(
      `OpenD simulator could not start: ${
        error.code ? `${error.code}: ${error.message}` : error.message
      }\n`,
    );
    process.exitCode = 1;
    return undefined;
  });
  if (sim === undefined) return;
  const running = ref.sim = sim;
  const { host, port, opsPort, wsPort, wsTls } = running.address;
  process.stdout.write(
    `OpenD simulator listening: api ${host}:${port}, ${
      opsPort === undefined ? "ops disabled" : `ops ${host}:${opsPort}`
    }${
      wsPort === undefined ? "" : `, ${wsTls ? "wss" : "ws"} ${host}:${wsPort}`
    }\n`,
  );
  if (pending !== undefined) {
    process.stdout.write(
      `scenario ${pending} starts when the first client completes InitConnect or InitWebSocket\n`,
    );
  }
  started = true;
  for (const event of running.events) {
    if (event.type !== "listening") {
      process.stdout.write(`${formatSimEvent(event)}\n`);
    }
  }
  if (running.events.some((e) => e.type === "initConnect")) startScenario();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    void running.close().then(() => {
      process.stdout.write("OpenD simulator stopped\n");
      process.exit(0);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  if (process.platform !== "win32") {
    process.on("SIGTERM", () => stop("SIGTERM"));
  }
}

const entry = process.argv[1];
const isMain = (import.meta as { main?: boolean }).main ??
  (entry !== undefined && import.meta.url === pathToFileURL(entry).href);
if (isMain) await main(process.argv.slice(2));
