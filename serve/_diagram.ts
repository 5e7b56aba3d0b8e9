/**
 * The statechart picture the console shows, and the state ids it draws (its
 * nodes' and clusters' titles), so only those are highlighted and sent.
 * @module
 */
import { SESSION_DIAGRAM_SVG } from "./_diagram_svg.ts";

export { SESSION_DIAGRAM_SVG };

/** State ids that have a node or a cluster in {@link SESSION_DIAGRAM_SVG}. */
export const DIAGRAM_STATE_IDS: ReadonlySet<string> = new Set(
  [...SESSION_DIAGRAM_SVG.matchAll(/<title>([^<]*)<\/title>/g)]
    .map((m) => m[1].replace(/^cluster_/, ""))
    .filter((id) => /^session(\.[\w]+)*$/.test(id)),
);
