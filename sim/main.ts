/**
 * The simulator as a program, so any OpenD SDK (the official Python one
 * included) can be pointed at it:
 *
 * ```sh
 * deno task sim [--port N] [--ops-port N|off] [--rsa PEM_FILE] [--scenario NAME]
 *               [--phone-code C] [--pic-code C] [--keep-alive-interval S] ...
 * ```
 *
 * The first line printed says where it listens, e.g.
 * `OpenD simulator listening: api 127.0.0.1:11111, ops 127.0.0.1:22222`;
 * then one line per event. A `--scenario` starts when the first client
 * completes InitConnect, so the SDK under test sees the whole story.
 * SIGINT or SIGTERM stops it cleanly (exit code 0).
 * Bad arguments exit with code 2. Runs in Deno and Node (>= 20).
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";
import {
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import { formatSimEvent } from "./events.ts";
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
  --rsa PEM_FILE            RSA private key shared with clients (enables encryption)
  --scenario NAME           run a named scenario: ${SCENARIO_NAMES.join(", ")}
  --time-scale X            scenario speed factor for delays (default 1; 0.1 = 10x faster)
  --status NAME             initial program status (default Ready)
  --phone-code C            phone verification code accepted (default 123456)
  --pic-code C              picture verification code accepted (default 1234)
  --login-password P        account password checked by relogin (never printed)
  --login-password-env NAME the same, read from environment variable NAME (not visible in ps)
  --keep-alive-interval S   keepAliveInterval returned by InitConnect (default 10)
  --idle-timeout MS         drop API connections silent this long (default 30000)
  --login-delay MS          how long Loging lasts (default 200)
  --help                    this text`;

/** What the command line asks for. */
export interface SimCliArgs {
  /** Options for {@link startSimulator}. */
  options: SimulatorOptions;
  /** `--help` was given. */
  help: boolean;
}

function number(flag: string, text: string | undefined, min = 0): number {
  const n = Number(text);
  if (
    text === undefined || text.trim() === "" || !Number.isFinite(n) || n < min
  ) {
    throw new Error(`${flag} needs a number >= ${min}`);
  }
  return n;
}

function port(flag: string, text: string | undefined): number {
  const n = number(flag, text);
  if (!Number.isInteger(n) || n > 65535) {
    throw new Error(`${flag} needs a port 0..65535`);
  }
  return n;
}

/**
 * Parses the command line. Throws `Error` with a one-line message for a
 * bad argument.
 *
 * @example
 * ```ts
 * import { parseSimArgs } from "./main.ts";
 * parseSimArgs(["--port", "0", "--ops-port", "off"]).options; // { port: 0, opsPort: false, ... }
 * ```
 */
export function parseSimArgs(argv: readonly string[]): SimCliArgs {
  const options: SimulatorOptions = { ...DEFAULT_CLI_PORTS };
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0
      ? arg.slice(eq + 1)
      : undefined;
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--help":
      case "-h":
        help = true;
        break;
      case "--host":
        options.host = value();
        if (!options.host) throw new Error("--host needs a value");
        break;
      case "--port":
        options.port = port(flag, value());
        break;
      case "--ops-port": {
        const v = value();
        options.opsPort = v === "off" ? false : port(flag, v);
        break;
      }
      case "--rsa": {
        const file = value();
        if (!file) throw new Error("--rsa needs a PEM file");
        try {
          options.rsaPrivateKey = readFileSync(file, "utf8");
        } catch (error) {
          throw new Error(
            `--rsa: cannot read ${file} (${
              (error as { code?: string }).code ?? "error"
            })`,
          );
        }
        break;
      }
      case "--scenario": {
        const name = value() ?? "";
        if (!isScenarioName(name)) {
          throw new Error(
            `--scenario must be one of ${SCENARIO_NAMES.join(", ")}`,
          );
        }
        options.scenario = name as ScenarioName;
        break;
      }
      case "--time-scale":
        options.scenarioTimeScale = number(flag, value());
        break;
      case "--status": {
        const name = value() ?? "";
        const status = ProgramStatusType[name as ProgramStatusTypeName];
        if (status === undefined) {
          throw new Error(
            `--status must be one of ${
              Object.keys(ProgramStatusType).join(", ")
            }`,
          );
        }
        options.programStatus = status;
        break;
      }
      case "--phone-code":
        options.phoneCode = value();
        if (!options.phoneCode) throw new Error("--phone-code needs a value");
        break;
      case "--pic-code":
        options.pictureCode = value();
        if (!options.pictureCode) throw new Error("--pic-code needs a value");
        break;
      case "--login-password":
        options.loginPassword = value();
        if (options.loginPassword === undefined) {
          throw new Error("--login-password needs a value");
        }
        break;
      case "--login-password-env": {
        const name = value() ?? "";
        const password = name === "" ? undefined : Deno.env.get(name);
        if (password === undefined || password === "") {
          throw new Error(
            `--login-password-env: ${name || "(empty)"} is not set`,
          );
        }
        options.loginPassword = password;
        break;
      }
      case "--keep-alive-interval":
        options.keepAliveInterval = number(flag, value(), 1);
        if (!Number.isInteger(options.keepAliveInterval)) {
          throw new Error(`${flag} needs whole seconds`);
        }
        break;
      case "--idle-timeout":
        options.idleTimeoutMs = number(flag, value(), 1);
        break;
      case "--login-delay":
        options.loginDelayMs = number(flag, value());
        break;
      default:
        // Never echo a value: it might be a password given wrongly. A flag
        // name (it starts with "--" and holds no "=") is safe to name.
        throw new Error(
          /^--[a-z-]+$/.test(flag)
            ? `unknown option ${flag}; see --help`
            : `unknown argument #${i + 1}; see --help`,
        );
    }
  }
  return { options, help };
}

/** Runs the program with `argv` (without the runtime and script paths). */
export async function main(argv: readonly string[]): Promise<void> {
  let parsed: SimCliArgs;
  try {
    parsed = parseSimArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
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
  const { host, port, opsPort } = running.address;
  process.stdout.write(
    `OpenD simulator listening: api ${host}:${port}, ${
      opsPort === undefined ? "ops disabled" : `ops ${host}:${opsPort}`
    }\n`,
  );
  if (pending !== undefined) {
    process.stdout.write(
      `scenario ${pending} starts when the first client completes InitConnect\n`,
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
