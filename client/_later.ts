/**
 * Runs callbacks soon, each in its own macrotask, in order: timers and I/O
 * get their turn between two of them. When OpenD drops a thousand links at
 * once, their closes arrive in one batch; handing each to the supervisor
 * this way keeps that batch from blocking the event loop (and the reconnect
 * timers full jitter drew) for its whole length.
 * @module
 */

const queue: (() => void)[] = [];
// What is used of a MessageChannel, spelt out: Deno's and Node's types of it
// differ (Node's MessagePort declares no `onmessage`), the runtimes do not.
interface Channel {
  readonly port1: { onmessage: (() => void) | null; close(): void };
  readonly port2: { postMessage(message: null): void; close(): void };
}
let channel: Channel | undefined;

function runOne(): void {
  const next = queue.shift();
  if (queue.length === 0) {
    // Nothing left: close the channel, so it never keeps a process alive.
    channel?.port1.close();
    channel?.port2.close();
    channel = undefined;
  }
  next?.();
}

/** Calls `fn` in a macrotask of its own, after those queued before it. */
export function _later(fn: () => void): void {
  queue.push(fn);
  if (typeof MessageChannel !== "function") {
    setTimeout(runOne, 0);
    return;
  }
  if (channel === undefined) {
    const created: Channel = new MessageChannel() as unknown as Channel;
    created.port1.onmessage = runOne;
    channel = created;
  }
  channel.port2.postMessage(null);
}
