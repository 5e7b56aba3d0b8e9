/**
 * Flag parsing shared by the campaign commands: `--name value` or
 * `--name=value`, `--help`, and one clear line for anything else.
 * @module
 */

/** A flag a command accepts: its name and whether it takes a value. */
export interface FlagSpec {
  /** Without the leading dashes. */
  readonly name: string;
  /** Whether a value follows (else it is a switch). */
  readonly value: boolean;
}

/** What {@link parseFlags} found. */
export interface ParsedFlags {
  /** `--help` was given. */
  readonly help: boolean;
  /** Values by flag name; switches map to "true". */
  readonly values: ReadonlyMap<string, string>;
}

/** A command-line mistake; the message is the one line to print. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses `args` against `specs`. Throws {@link UsageError} for an unknown
 * flag, a missing value or a stray argument.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./_args.ts";
 * parseFlags(["--n", "5"], [{ name: "n", value: true }]).values.get("n"); // "5"
 * ```
 */
export function parseFlags(
  args: readonly string[],
  specs: readonly FlagSpec[],
): ParsedFlags {
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      throw new UsageError(`unexpected argument: ${arg}`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw new UsageError(`unknown flag: --${name}`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      values.set(name, "true");
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === "") {
      throw new UsageError(`--${name} needs a value`);
    }
    values.set(name, value);
  }
  return { help, values };
}

/** A flag's value as a non-negative integer, or `fallback`. Throws {@link UsageError}. */
export function intFlag(
  flags: ParsedFlags,
  name: string,
  fallback: number,
): number {
  const raw = flags.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(
      `--${name} must be a non-negative integer, got ${raw}`,
    );
  }
  return n;
}

/**
 * Runs a command's main: prints usage for `--help` (exit 0), one line for a
 * {@link UsageError} (exit 2), and sets the exit code `run` returns.
 */
export async function runCommand(
  usage: string,
  args: readonly string[],
  specs: readonly FlagSpec[],
  run: (flags: ParsedFlags) => Promise<number>,
): Promise<void> {
  let flags: ParsedFlags;
  try {
    flags = parseFlags(args, specs);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message} (see --help)`);
    Deno.exitCode = 2;
    return;
  }
  if (flags.help) {
    console.log(usage);
    return;
  }
  try {
    Deno.exitCode = await run(flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message} (see --help)`);
    Deno.exitCode = 2;
  }
}
