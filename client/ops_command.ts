/**
 * Commands for OpenD's operations (telnet) port, as data.
 *
 * Only the commands in {@link OPS_COMMANDS} can be built; `exit` (which stops
 * OpenD) is not one of them, and no value can smuggle a second line or a
 * second argument in: values with whitespace or control characters are
 * refused. So the client cannot send `exit`, by construction.
 * @module
 */
import { createHash } from "node:crypto";
import { type Credentials, Secret } from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";

/** The operations-port commands the client can send. `exit` is not one. */
export const OPS_COMMANDS: readonly OpsCommandName[] = Object.freeze([
  "relogin",
  "req_phone_verify_code",
  "input_phone_verify_code",
  "req_pic_verify_code",
  "input_pic_verify_code",
  "request_highest_quote_right",
]);

/** A command name from {@link OPS_COMMANDS}. */
export type OpsCommandName =
  | "relogin"
  | "req_phone_verify_code"
  | "input_phone_verify_code"
  | "req_pic_verify_code"
  | "input_pic_verify_code"
  | "request_highest_quote_right";

/**
 * One operations-port command.
 *
 * - `relogin`: log OpenD in again, with its stored password, or with new
 *   `credentials`: a `password` is sent as its MD5 (`-login_pwd_md5=`), never
 *   in plain text. Rate limit: 10 an hour.
 * - `req_phone_verify_code`: send an SMS code again (1 a minute).
 * - `input_phone_verify_code` / `input_pic_verify_code`: submit a code and
 *   log in (10 a minute). The code may be boxed in a {@link Secret}; it is
 *   never shown (see {@link describeOpsCommand}).
 * - `req_pic_verify_code`: refresh the picture code (10 a minute).
 * - `request_highest_quote_right`: take the highest quote right back.
 */
export type OpsCommand =
  | {
    readonly command: "relogin";
    readonly credentials?: Credentials | Secret<Credentials>;
  }
  | { readonly command: "req_phone_verify_code" }
  | {
    readonly command: "input_phone_verify_code";
    readonly code: string | Secret<string>;
  }
  | { readonly command: "req_pic_verify_code" }
  | {
    readonly command: "input_pic_verify_code";
    readonly code: string | Secret<string>;
  }
  | { readonly command: "request_highest_quote_right" };

const MAX_VALUE = 256;
// One token: no whitespace (it would split arguments), no control characters
// (CR/LF would start a new command line).
// deno-lint-ignore no-control-regex
const SAFE_VALUE = /^[^\s\x00-\x1f\x7f]+$/u;

function invalid(message: string): ClientError {
  return new ClientError(ClientErrorCode.InvalidArgument, message);
}

function checked(name: string, value: unknown, secret: boolean): string {
  if (typeof value !== "string" || value === "") {
    throw invalid(`ops command: ${name} must be a non-empty string`);
  }
  if (value.length > MAX_VALUE || !SAFE_VALUE.test(value)) {
    // Never echo the value: it may be a password.
    throw invalid(
      `ops command: ${name} must be one token of at most ${MAX_VALUE} ` +
        `characters, without spaces or control characters${
          secret ? "" : ` (got ${JSON.stringify(value.slice(0, 32))})`
        }`,
    );
  }
  return value;
}

function credentialArg(
  credentials: Credentials | Secret<Credentials> | undefined,
): string {
  if (credentials === undefined) return "";
  const value = credentials instanceof Secret
    ? credentials.reveal()
    : credentials;
  if (value === null || typeof value !== "object") {
    throw invalid("ops command: relogin credentials must be an object");
  }
  if ("password" in value && typeof value.password === "string") {
    // Only its MD5 crosses the wire (OpenD takes -login_pwd_md5), so the
    // password itself never shows in a capture or on OpenD's console.
    if (value.password === "" || value.password.length > MAX_VALUE) {
      throw invalid(
        `ops command: the password must be 1 to ${MAX_VALUE} characters`,
      );
    }
    return ` -login_pwd_md5=${passwordMd5(value.password)}`;
  }
  if ("passwordMd5" in value && typeof value.passwordMd5 === "string") {
    const md5 = checked("the password MD5", value.passwordMd5, true);
    if (!/^[0-9a-fA-F]{32}$/.test(md5)) {
      throw invalid("ops command: passwordMd5 must be 32 hex digits");
    }
    return ` -login_pwd_md5=${md5}`;
  }
  throw invalid(
    "ops command: relogin credentials need `password` or `passwordMd5`",
  );
}

/**
 * The MD5 OpenD's `relogin -login_pwd_md5=` takes: of the password's UTF-8
 * bytes, 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { passwordMd5 } from "./ops_command.ts";
 * passwordMd5("password"); // "5f4dcc3b5aa765d61d8327deb882cf99"
 * ```
 */
export function passwordMd5(password: string): string {
  return createHash("md5").update(password, "utf8").digest("hex");
}

/**
 * The command line for `command` (without CRLF), boxed because a relogin
 * line holds a password. Throws {@link ClientError} `INVALID_ARGUMENT` for a
 * command that is not in {@link OPS_COMMANDS} or an unsafe value.
 *
 * @example
 * ```ts
 * import { formatOpsCommand } from "./ops_command.ts";
 * formatOpsCommand({ command: "input_phone_verify_code", code: "123456" }).reveal();
 * // "input_phone_verify_code -code=123456"
 * String(formatOpsCommand({ command: "relogin", credentials: { password: "hunter2" } }));
 * // "[redacted]"
 * ```
 */
export function formatOpsCommand(command: OpsCommand): Secret<string> {
  const name = (command as { command?: unknown } | null)?.command;
  if (
    typeof name !== "string" ||
    !(OPS_COMMANDS as readonly string[]).includes(name)
  ) {
    throw invalid(
      `ops command: ${
        typeof name === "string" ? JSON.stringify(name.slice(0, 32)) : "?"
      } is not one of ${OPS_COMMANDS.join(", ")}`,
    );
  }
  let line: string;
  switch (command.command) {
    case "relogin":
      line = `relogin${credentialArg(command.credentials)}`;
      break;
    case "input_phone_verify_code":
    case "input_pic_verify_code": {
      const code = command.code instanceof Secret
        ? command.code.reveal()
        : command.code;
      line = `${command.command} -code=${checked("the code", code, true)}`;
      break;
    }
    default:
      line = command.command;
  }
  // Belt and braces: one line, starting with an allowed command.
  const first = line.split(" ", 1)[0];
  if (
    /[\r\n]/.test(line) || first === "exit" ||
    !(OPS_COMMANDS as readonly string[]).includes(first)
  ) {
    throw invalid("ops command: refused to build an unsafe command line");
  }
  return new Secret(line);
}

/**
 * The command as it may be shown to people: passwords and verification codes
 * redacted.
 *
 * @example
 * ```ts
 * import { describeOpsCommand } from "./ops_command.ts";
 * describeOpsCommand({ command: "relogin", credentials: { password: "hunter2" } });
 * // "relogin -login_pwd_md5=[redacted]"
 * describeOpsCommand({ command: "input_phone_verify_code", code: "123456" });
 * // "input_phone_verify_code -code=[redacted]"
 * ```
 */
export function describeOpsCommand(command: OpsCommand): string {
  switch (command?.command) {
    case "relogin": {
      const c = command.credentials instanceof Secret
        ? command.credentials.reveal()
        : command.credentials;
      if (c && ("password" in c || "passwordMd5" in c)) {
        return "relogin -login_pwd_md5=[redacted]";
      }
      return "relogin";
    }
    case "input_phone_verify_code":
    case "input_pic_verify_code":
      return `${command.command} -code=[redacted]`;
    default:
      return String(command?.command);
  }
}
