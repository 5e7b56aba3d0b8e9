/**
 * Where the console listens, and whether that address is loopback (the only
 * kind allowed without a token).
 * @module
 */

/**
 * Whether `host` reaches only this machine: `localhost`, 127.0.0.0/8 or ::1.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./listen.ts";
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("0.0.0.0"); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * `HOST:PORT`, `[V6]:PORT` or `PORT` (on 127.0.0.1) as a hostname and port;
 * throws `RangeError` with a one-line reason otherwise.
 *
 * @example
 * ```ts
 * import { parseListen } from "./listen.ts";
 * parseListen("0.0.0.0:8080"); // { hostname: "0.0.0.0", port: 8080 }
 * parseListen("9000"); // { hostname: "127.0.0.1", port: 9000 }
 * ```
 */
export function parseListen(
  text: string,
): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\[\]]+)):(\d+)$/.exec(text) ??
    /^()()(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `--listen takes HOST:PORT (e.g. 127.0.0.1:8080), got "${text}"`,
    );
  }
  return { hostname: m[1] || m[2] || "127.0.0.1", port };
}

/**
 * Whether `host` is an IPv4 or IPv6 address rather than a name.
 *
 * @example
 * ```ts
 * import { isIpLiteral } from "./listen.ts";
 * isIpLiteral("10.0.0.7"); // true
 * isIpLiteral("[::1]"); // true
 * isIpLiteral("opend.example.com"); // false
 * ```
 */
export function isIpLiteral(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) ||
    (h.includes(":") && /^[0-9a-f:.]+$/i.test(h));
}
