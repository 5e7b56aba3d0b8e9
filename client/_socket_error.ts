/**
 * One wording for socket errors, for the API link and the operations port
 * alike: `connection refused (ECONNREFUSED)`.
 * @module
 */

const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "broken pipe",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host lookup failed",
};

/** A socket error for people: its meaning and its code, or its message. */
export function _socketErrorText(error: Error & { code?: string }): string {
  const code = error.code;
  if (code === undefined) return `socket error: ${error.message}`;
  return `${SOCKET_ERRORS[code] ?? "socket error"} (${code})`;
}
