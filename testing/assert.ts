/**
 * A small subset of `@std/assert` over `node:assert/strict`.
 *
 * Tests import `@std/assert`; `deno.json` maps that name here because JSR is
 * not reachable from every machine this project is built on. To use the real
 * module, change the mapping to `"@std/assert": "jsr:@std/assert@^1"`: the
 * signatures below follow it.
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  /** Creates an assertion error with a message. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function rethrow(error: unknown, msg?: string): never {
  const text = error instanceof Error ? error.message : String(error);
  throw new AssertionError(msg ? `${msg}: ${text}` : text);
}

/** Asserts that `expr` is truthy. */
export function assert(
  expr: unknown,
  msg = "Expected expression to be truthy",
): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** Asserts that `actual` and `expected` are deeply equal. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    nodeAssert.deepStrictEqual(actual, expected);
  } catch (error) {
    rethrow(error, msg);
  }
}

/** Asserts that `actual` and `expected` are not deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    nodeAssert.notDeepStrictEqual(actual, expected);
  } catch (error) {
    rethrow(error, msg);
  }
}

/** Asserts that `actual` and `expected` are the same value (`Object.is`). */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  try {
    nodeAssert.strictEqual(actual, expected);
  } catch (error) {
    rethrow(error, msg);
  }
}

/** Asserts that `actual` is neither `null` nor `undefined`. */
export function assertExists<T>(
  actual: T,
  msg?: string,
): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to not be null or undefined.`,
    );
  }
}

/** Asserts that `actual` includes `expected` as a substring. */
export function assertStringIncludes(
  actual: string,
  expected: string,
  msg?: string,
): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to contain: "${expected}".`,
    );
  }
}

/** Asserts that `actual` matches the regular expression `expected`. */
export function assertMatch(
  actual: string,
  expected: RegExp,
  msg?: string,
): void {
  if (!expected.test(actual)) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to match: "${expected}".`,
    );
  }
}

/** Asserts that `actual` does not match the regular expression `expected`. */
export function assertNotMatch(
  actual: string,
  expected: RegExp,
  msg?: string,
): void {
  if (expected.test(actual)) {
    throw new AssertionError(
      msg ?? `Expected actual: "${actual}" to not match: "${expected}".`,
    );
  }
}

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<
  T extends abstract new (...args: never[]) => unknown,
>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    throw new AssertionError(
      msg ?? `Expected object to be an instance of "${expectedType.name}".`,
    );
  }
}

/** Asserts that `actual` contains every element of `expected`. */
export function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  msg?: string,
): void {
  const items = Array.from(actual);
  for (const wanted of Array.from(expected)) {
    if (!items.some((item) => isDeepStrictEqual(item, wanted))) {
      throw new AssertionError(
        msg ?? `Expected actual to include ${JSON.stringify(wanted)}.`,
      );
    }
  }
}

/** Asserts that `actual` is deeply equal to `expected` on the keys of `expected`. */
export function assertObjectMatch(
  actual: Record<PropertyKey, unknown>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void {
  try {
    nodeAssert.partialDeepStrictEqual(actual, expected);
  } catch (error) {
    rethrow(error, msg);
  }
}

/** Asserts that `actual` is greater than `expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) {
    throw new AssertionError(msg ?? `Expect ${actual} > ${expected}`);
  }
}

/** Asserts that `actual` is greater than or equal to `expected`. */
export function assertGreaterOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (!(actual >= expected)) {
    throw new AssertionError(msg ?? `Expect ${actual} >= ${expected}`);
  }
}

/** Asserts that `actual` is less than `expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) {
    throw new AssertionError(msg ?? `Expect ${actual} < ${expected}`);
  }
}

/** Asserts that `actual` is less than or equal to `expected`. */
export function assertLessOrEqual<T>(
  actual: T,
  expected: T,
  msg?: string,
): void {
  if (!(actual <= expected)) {
    throw new AssertionError(msg ?? `Expect ${actual} <= ${expected}`);
  }
}

/** Forces a failure. */
export function fail(msg?: string): never {
  throw new AssertionError(
    msg ? `Failed assertion: ${msg}` : "Failed assertion.",
  );
}

/** Use in unreachable code. */
export function unreachable(msg?: string): never {
  throw new AssertionError(msg ?? "Unreachable");
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** Executes `fn` and asserts that it throws, optionally of a class and with a message part. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E {
  let thrown: unknown;
  let didThrow = false;
  try {
    fn();
  } catch (error) {
    thrown = error;
    didThrow = true;
  }
  if (!didThrow) throw new AssertionError(msg ?? "Expected function to throw.");
  checkError(thrown, ErrorClass, msgIncludes, msg);
  return thrown as E;
}

/** Awaits `fn` and asserts that it rejects, optionally of a class and with a message part. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E> {
  let thrown: unknown;
  let didThrow = false;
  try {
    await fn();
  } catch (error) {
    thrown = error;
    didThrow = true;
  }
  if (!didThrow) {
    throw new AssertionError(msg ?? "Expected function to reject.");
  }
  checkError(thrown, ErrorClass, msgIncludes, msg);
  return thrown as E;
}

function checkError<E extends Error>(
  thrown: unknown,
  ErrorClass?: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): void {
  if (ErrorClass && !(thrown instanceof ErrorClass)) {
    throw new AssertionError(
      msg ??
        `Expected error to be instance of "${ErrorClass.name}", but was "${
          (thrown as Error)?.name
        }".`,
    );
  }
  if (
    msgIncludes !== undefined &&
    !String((thrown as Error)?.message).includes(msgIncludes)
  ) {
    throw new AssertionError(
      msg ??
        `Expected error message to include "${msgIncludes}", but got "${
          (thrown as Error)?.message
        }".`,
    );
  }
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    nodeAssert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
