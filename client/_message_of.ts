/**
 * One wording for any thrown value in the client's messages.
 * @module
 */

/** `error`'s message, for people. */
export function _messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
