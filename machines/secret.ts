/**
 * A box for a password or a verification code that will not print itself:
 * not through `JSON`, `String`, template literals, `console.log` or
 * `Deno.inspect`. The session supervisor hands credentials to the relogin
 * actor, and codes to the submit actor, only in this box, so they never show
 * up in snapshots, emitted events, inspection or logs.
 * @module
 */

const contents = new WeakMap<object, unknown>();
const REDACTED = "[redacted]";

/**
 * Holds a value without revealing it by accident; {@link Secret.reveal} is
 * the only way out.
 *
 * @example
 * ```ts
 * import { Secret } from "./secret.ts";
 * const secret = new Secret({ password: "hunter2" });
 * JSON.stringify({ secret }); // '{"secret":"[redacted]"}'
 * secret.reveal().password; // "hunter2"
 * ```
 */
export class Secret<T> {
  /** Boxes `value`. */
  constructor(value: T) {
    contents.set(this, value);
    Object.freeze(this);
  }

  /** The boxed value. Call it where the value is used, nowhere else. */
  reveal(): T {
    return contents.get(this) as T;
  }

  /** Always `"[redacted]"`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `"[redacted]"`. */
  toString(): string {
    return REDACTED;
  }

  /** What Deno's console shows. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Secret(${REDACTED})`;
  }

  /** What Node's console shows. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret(${REDACTED})`;
  }
}

/** Login credentials for OpenD's `relogin` command. */
export type Credentials =
  | { readonly password: string }
  | { readonly passwordMd5: string };

/** `value` boxed, unless it is boxed already (or absent). */
export function toSecret<T>(
  value: T | Secret<T> | undefined | null,
): Secret<T> | undefined {
  if (value === undefined || value === null) return undefined;
  return value instanceof Secret ? value : new Secret(value);
}

/**
 * Removes what looks like a password or a verification code from a message:
 * OpenD's relogin command line (`-login_pwd=...`, `-login_pwd_md5=...`),
 * `password=...` pairs and the operations port's `-code=...` argument. Used
 * on error messages before they are kept or emitted, in case a relogin or
 * code implementation echoes its command.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./secret.ts";
 * redactSecrets("relogin -login_pwd=hunter2 failed");
 * // "relogin -login_pwd=[redacted] failed"
 * redactSecrets("input_phone_verify_code -code=123456: FAILED");
 * // "input_phone_verify_code -code=[redacted]: FAILED"
 * ```
 */
export function redactSecrets(message: string): string {
  return message
    .replace(
      /(login_pwd(?:_md5)?|password(?:Md5)?|pwd)(\s*[=:]\s*)("[^"]*"|\S+)/gi,
      `$1$2${REDACTED}`,
    )
    .replace(/(-code)(\s*=\s*)("[^"]*"|[^\s:,;]+)/gi, `$1$2${REDACTED}`);
}
