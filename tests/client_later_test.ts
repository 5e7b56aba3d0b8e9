/**
 * How a dropped link reaches its supervisor (`client/_later.ts`): in order,
 * in slices of a few milliseconds, one macrotask scheduled at a time, so a
 * thousand drops at once give the event loop a turn between slices. The
 * clock and the scheduler are fakes: nothing here depends on real time.
 */
import { assertEquals, assertThrows } from "@std/assert";
import { _later, _SlicedQueue } from "../client/_later.ts";

/** A queue on a fake clock, with the macrotasks it asks for held in `turns`. */
function fakeQueue(sliceMs: number) {
  const clock = { ms: 0 };
  const turns: (() => void)[] = [];
  const queue = new _SlicedQueue(
    (run) => turns.push(run),
    () => clock.ms,
    sliceMs,
  );
  /** Runs the one pending macrotask (there is never more than one). */
  const turn = () => {
    assertEquals(turns.length, 1, "exactly one macrotask pending");
    turns.shift()!();
  };
  return { clock, turns, queue, turn };
}

Deno.test("later: nothing runs at once; one macrotask however many are queued", () => {
  const { turns, queue, turn } = fakeQueue(8);
  const ran: number[] = [];
  for (let i = 0; i < 1000; i++) queue.push(() => ran.push(i));
  assertEquals(ran, []);
  assertEquals(turns.length, 1);
  assertEquals(queue.pending, 1000);
  // Callbacks that take no time all fit in one slice.
  turn();
  assertEquals(ran.length, 1000);
  assertEquals(ran, [...ran].sort((a, b) => a - b));
  assertEquals(turns.length, 0);
  assertEquals(queue.pending, 0);
});

Deno.test("later: a slice ends once its time is spent; the rest wait for the next turn, in order", () => {
  const { clock, turns, queue, turn } = fakeQueue(8);
  const ran: number[] = [];
  // Every callback costs 3 ms of the fake clock: three fit in an 8 ms slice
  // (the third starts at 6 ms, before the end).
  for (let i = 0; i < 10; i++) {
    queue.push(() => {
      ran.push(i);
      clock.ms += 3;
    });
  }
  turn();
  assertEquals(ran, [0, 1, 2]);
  assertEquals(turns.length, 1, "the next slice is scheduled, not run");
  turn();
  assertEquals(ran, [0, 1, 2, 3, 4, 5]);
  turn();
  turn();
  assertEquals(ran, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(turns.length, 0);
});

Deno.test("later: one callback longer than a slice runs alone, and is never cut short", () => {
  const { clock, queue, turn } = fakeQueue(8);
  const ran: string[] = [];
  queue.push(() => {
    ran.push("long");
    clock.ms += 50;
  });
  queue.push(() => ran.push("next"));
  turn();
  assertEquals(ran, ["long"]);
  turn();
  assertEquals(ran, ["long", "next"]);
});

Deno.test("later: callbacks queued by a running one run after those queued before", () => {
  const { clock, turns, queue, turn } = fakeQueue(8);
  const ran: string[] = [];
  queue.push(() => {
    ran.push("a");
    queue.push(() => ran.push("c"));
    clock.ms += 10;
  });
  queue.push(() => ran.push("b"));
  assertEquals(turns.length, 1);
  turn();
  assertEquals(ran, ["a"]);
  turn();
  assertEquals(ran, ["a", "b", "c"]);
  assertEquals(turns.length, 0);
  // Empty again: the next push schedules afresh.
  queue.push(() => ran.push("d"));
  turn();
  assertEquals(ran, ["a", "b", "c", "d"]);
});

Deno.test("later: a callback that throws does not strand the ones behind it", () => {
  const { turns, queue, turn } = fakeQueue(8);
  const ran: string[] = [];
  queue.push(() => {
    throw new Error("a handler bug");
  });
  queue.push(() => ran.push("after"));
  assertThrows(() => turn(), Error, "a handler bug");
  assertEquals(turns.length, 1);
  turn();
  assertEquals(ran, ["after"]);
});

Deno.test("later: the shared queue runs every callback, in order, after the caller returns", async () => {
  const ran: number[] = [];
  const done = Promise.withResolvers<void>();
  for (let i = 0; i < 100; i++) {
    _later(() => {
      ran.push(i);
      if (i === 99) done.resolve();
    });
  }
  assertEquals(ran, []);
  await done.promise;
  assertEquals(ran, Array.from({ length: 100 }, (_, i) => i));
});
