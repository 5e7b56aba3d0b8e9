/**
 * One way for every command line to refuse bad arguments: one line on stderr
 * naming what is wrong, exit status 2. The usage text is for `--help` only.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit status of a command line given bad arguments. */
export const BAD_ARGS = 2;

/**
 * Prints `<command>: <problem> (see --help)` on stderr and returns
 * {@link BAD_ARGS}.
 */
export function refuse(command: string, problem: string): number {
  console.error(`${command}: ${problem} (see --help)`);
  return BAD_ARGS;
}

/**
 * `parseArgs` (strict) that reports a bad argument as one line through
 * {@link refuse}, never echoing a value back: a positional argument may be a
 * password typed in the wrong place.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  try {
    return parseArgs(config);
  } catch (error) {
    return refuse(command, describeParseError(error));
  }
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = message.match(/'(--?[\w-]+)/)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? message}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return "unexpected argument (this command takes options only)";
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return option === undefined
        ? "an option has an invalid value"
        : message.includes("argument missing")
        ? `${option} needs a value`
        : `${option} takes no value`;
    default:
      return message;
  }
}
