/**
 * The operations port's line protocol: bytes to command lines, and a line to
 * `{ command, args }`.
 * @module
 */

/** Longest line accepted; a longer one is not an operator typing. */
export const _MAX_OPS_LINE = 4096;

/**
 * Argument names whose values are secrets (passwords and verification
 * codes): events and logs say one was given, never what it was.
 */
export const _SECRET_ARGS: ReadonlySet<string> = new Set([
  "login_pwd",
  "login_pwd_md5",
  "code",
]);

/** Commands whose stray text is most likely a mistyped secret. */
const _SECRET_STRAY: ReadonlySet<string> = new Set([
  "relogin",
  "input_phone_verify_code",
  "input_pic_verify_code",
]);

/** A parsed command line. */
export interface _OpsCommand {
  /** The command name, e.g. `relogin`. */
  command: string;
  /** `-key=value` arguments; a bare `-key` has the value "". */
  args: Record<string, string>;
}

const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;
const WILL = 0xfb;
const DONT = 0xfe;

/**
 * Splits a byte stream into lines (LF or CRLF), dropping the telnet option
 * negotiation a terminal `telnet` client may send, so that typing works by
 * hand. Keeps no more than {@link _MAX_OPS_LINE} pending bytes.
 */
export class _LineSplitter {
  #pending: number[] = [];
  // 0 text, 1 after IAC, 2 after IAC WILL/WONT/DO/DONT, 3 in a subnegotiation, 4 IAC in it.
  #telnet = 0;
  readonly #decoder = new TextDecoder();

  /** Adds bytes; returns the lines they complete, or `undefined` when a line is too long. */
  push(chunk: Uint8Array): string[] | undefined {
    const lines: string[] = [];
    for (const byte of chunk) {
      switch (this.#telnet) {
        case 1:
          if (byte === IAC) this.#pending.push(IAC), this.#telnet = 0;
          else if (byte >= WILL && byte <= DONT) this.#telnet = 2;
          else if (byte === SB) this.#telnet = 3;
          else this.#telnet = 0;
          continue;
        case 2:
          this.#telnet = 0;
          continue;
        case 3:
          if (byte === IAC) this.#telnet = 4;
          continue;
        case 4:
          this.#telnet = byte === SE ? 0 : 3;
          continue;
      }
      if (byte === IAC) {
        this.#telnet = 1;
      } else if (byte === 0x0a) {
        const bytes = this.#pending;
        if (bytes.at(-1) === 0x0d) bytes.pop();
        lines.push(this.#decoder.decode(Uint8Array.from(bytes)));
        this.#pending = [];
      } else {
        if (this.#pending.length >= _MAX_OPS_LINE) return undefined;
        this.#pending.push(byte);
      }
    }
    return lines;
  }
}

/**
 * Parses `cmd -key=value -key2=value2`. A value runs to the next ` -name=`
 * (or the end), so a password may hold spaces. Returns `undefined` for a
 * blank line.
 */
export function _parseOpsLine(line: string): _OpsCommand | undefined {
  const text = line.trim();
  if (text === "") return undefined;
  const space = text.search(/\s/);
  const command = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? "" : text.slice(space);
  const args: Record<string, string> = {};
  const pattern =
    /\s+-([A-Za-z_][A-Za-z0-9_]*)(?:=(.*?))?(?=\s+-[A-Za-z_][A-Za-z0-9_]*(?:=|\s|$)|\s*$)/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = pattern.exec(rest)) !== null) {
    args[match[1]] = match[2] ?? "";
    end = pattern.lastIndex;
    if (end >= rest.length) break;
  }
  if (rest.slice(end).trim() !== "") args._ = rest.slice(end).trim();
  return { command, args };
}

/**
 * A command name fit for events and logs: a word of letters and
 * underscores is shown; anything else (a code or password typed alone on a
 * line) is not.
 */
export function _loggableCommand(command: string): string {
  return /^[A-Za-z_]{1,64}$/.test(command) ? command : "[redacted]";
}

/** A command name fit to echo back: printable, short. */
export function _safeCommandName(command: string): string {
  const clean = command.replace(/[^\x21-\x7e]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}

/**
 * The args with secret values replaced, for events and logs. Stray text
 * after `relogin` or an `input_*_verify_code` is redacted too: it is most
 * likely a mistyped password or code.
 */
export function _redactArgs(
  command: string,
  args: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(args)) {
    const secret = _SECRET_ARGS.has(key) ||
      (key === "_" && _SECRET_STRAY.has(command));
    out[key] = secret ? "[redacted]" : value;
  }
  return out;
}
