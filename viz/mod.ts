/**
 * Diagrams of XState v5 machines, read from their definitions: Mermaid
 * `stateDiagram-v2` for Markdown and forges, Graphviz DOT for SVGs. Works on
 * any machine; this package's own (`programStatusMachine`, `sessionMachine`)
 * are drawn into `docs/` and the README by `deno task viz`. Pure text out:
 * no renderer, no file access.
 *
 * @example
 * ```ts
 * import { sessionMachine } from "../machines/mod.ts";
 * import { toDot, toMermaid } from "./mod.ts";
 * toMermaid(sessionMachine, { collapse: ["gateway"], direction: "LR" })
 *   .startsWith("stateDiagram-v2"); // true
 * toDot(sessionMachine).startsWith('digraph "session"'); // true
 * ```
 * @module
 */
export { type DiagramMachine, type DiagramOptions, toDot } from "./to_dot.ts";
export { toMermaid } from "./to_mermaid.ts";
