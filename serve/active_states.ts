/**
 * The ids of a snapshot's active states, as the diagrams name their nodes
 * (`session.link.session.online`): what the web console highlights.
 * @module
 */

/** A snapshot's `value`: a state name, or child regions by name. */
export type StateValueLike =
  | string
  | { readonly [key: string]: StateValueLike };

/**
 * Every active state id of a machine whose root id is `rootId`, ancestors
 * included, sorted.
 *
 * @example
 * ```ts
 * import { activeStateIds } from "./active_states.ts";
 * activeStateIds({ link: "idle", recovery: { flow: "watching" } }, "session");
 * // ["session", "session.link", "session.link.idle", "session.recovery",
 * //  "session.recovery.flow", "session.recovery.flow.watching"]
 * ```
 */
export function activeStateIds(
  value: StateValueLike,
  rootId: string,
): string[] {
  const ids: string[] = [rootId];
  const walk = (v: StateValueLike, prefix: string) => {
    if (typeof v === "string") {
      ids.push(`${prefix}.${v}`);
      return;
    }
    for (const [key, child] of Object.entries(v)) {
      ids.push(`${prefix}.${key}`);
      walk(child, `${prefix}.${key}`);
    }
  };
  walk(value, rootId);
  return ids.sort();
}
