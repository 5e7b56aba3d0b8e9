/** Text and hex converters and the CodecError assertion shared by the message tests. */
import {
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "@std/assert";
import { CodecError, type CodecErrorCode } from "../codec/codec_error.ts";

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const unhex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

export function assertCodecError(
  fn: () => unknown,
  code: CodecErrorCode,
  includes?: string,
): CodecError {
  try {
    fn();
  } catch (error) {
    assertInstanceOf(error, CodecError);
    assertEquals(error.code, code, error.message);
    if (includes) assertStringIncludes(error.message, includes);
    return error;
  }
  throw new Error(`expected CodecError ${code}, nothing was thrown`);
}
