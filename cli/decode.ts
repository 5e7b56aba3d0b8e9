/**
 * `deno task decode [FILE]`: prints every packet of a raw OpenD TCP byte
 * stream as one JSON line.
 *
 * Reads a file or stdin (for example what a packet capture's "follow TCP
 * stream" saves as raw bytes), requests and responses alike. Known protocols
 * print their message in protobuf's JSON mapping; other protoIDs print their
 * (decrypted) body as base64; a bad packet prints
 * `{"error":{"code","message"},"offset","protoId","serialNo","protoFmt"}`
 * (the header fields once its header was read).
 *
 * Encrypted streams: `--rsa PEM_FILE` decrypts InitConnect and, when the
 * stream holds the InitConnect response, learns the connection's AES key from
 * it (CBC when it carries `aesCBCiv`, else FTAES_ECB, as the official SDKs do);
 * `--aes-key`, `--aes-iv` and `--algo` give the AES key directly.
 *
 * Secrets stay out of the output unless asked for: the AES key and IV that
 * InitConnect hands out (`connAESKey`, `aesCBCiv`) and the codes inside
 * Verification requests print as `"<redacted>"`; `--show-secrets` prints them.
 *
 * When packets fail to decrypt or verify, the first such error line carries a
 * `hint` naming the likely cause (no key for an encrypted stream, the wrong
 * RSA key, the wrong AES key), and the command ends with one summary line on
 * stderr.
 *
 * Exit status: 0 when the stream was read to its end cleanly, 1 after printing
 * any error line, 2 for bad arguments.
 * @module
 */
import { readFileSync } from "node:fs";
import { parseCommandLine, refuse } from "./_args.ts";
import {
  type BodyCipher,
  CodecError,
  CodecErrorCode,
  createAesCipher,
  type DecodedPacket,
  FrameDecoder,
  isMessageProtoId,
  type JsonObject,
  type MessageDirection,
  PacketCrypto,
  PacketEncAlgo,
  ProtoId,
  RsaKey,
  toJsonMapping,
} from "../codec/mod.ts";

/** How to decrypt and read a stream. */
export interface DecodeOptions {
  /** RSA private key (PEM) for InitConnect bodies. */
  rsaPem?: string;
  /** The connection's AES key (16 characters). */
  aesKey?: string;
  /** The connection's AES-CBC IV (16 characters). */
  aesIv?: string;
  /** AES mode; by default CBC when an IV is known, else FTAES_ECB. */
  algo?: "ftaes_ecb" | "aes_ecb" | "aes_cbc";
  /** Which message type bodies hold; by default told apart per packet. */
  direction?: "auto" | MessageDirection;
  /** Largest body accepted (default 64 MiB). */
  maxBodyBytes?: number;
  /**
   * Print the AES key and IV learnt from InitConnect and the codes of
   * Verification requests as they are (default false: `"<redacted>"`).
   */
  showSecrets?: boolean;
}

/** What stands in the output for a secret unless `showSecrets` is set. */
export const REDACTED = "<redacted>";

/** The error part of a {@link DecodeRecord} for a bad packet. */
export interface DecodeErrorRecord {
  error: {
    code: string;
    message: string;
    /** The likely cause, on the first packet that shows it. */
    hint?: string;
  };
  /** Stream offset of the bad packet (or header). */
  offset: number;
  /** The packet's header fields, when its header could be read. */
  protoId?: number;
  serialNo?: number;
  protoFmt?: number;
}

/** One output line of the decoder. */
export type DecodeRecord =
  | {
    protoId: number;
    protoFmt: number;
    serialNo: number;
    bodyLen: number;
    message: JsonObject;
  }
  | {
    protoId: number;
    protoFmt: number;
    serialNo: number;
    bodyLen: number;
    body: string;
  }
  | DecodeErrorRecord;

const ALGOS = {
  ftaes_ecb: PacketEncAlgo.FTAES_ECB,
  aes_ecb: PacketEncAlgo.AES_ECB,
  aes_cbc: PacketEncAlgo.AES_CBC,
} as const;

/**
 * Decodes a stream of chunks into output records, in stream order. Never
 * throws for bad stream bytes: they become error records. Stops after a
 * framing error, since packet boundaries are lost there.
 *
 * @example
 * ```ts
 * import { decodeStream } from "./decode.ts";
 * import { encodePacket, encodeRequest, ProtoId } from "../codec/mod.ts";
 * const body = encodeRequest(ProtoId.KeepAlive, { time: 1700000000 });
 * const bytes = encodePacket({ protoId: ProtoId.KeepAlive, serialNo: 7, body });
 * async function* once() { yield bytes; }
 * for await (const record of decodeStream(once())) console.log(JSON.stringify(record));
 * // {"protoId":1004,"protoFmt":0,"serialNo":7,"bodyLen":8,"message":{"c2s":{"time":"1700000000"}}}
 * ```
 */
export async function* decodeStream(
  chunks: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<DecodeRecord> {
  const crypto = new PacketCrypto();
  const explicitAlgo = options.algo === undefined
    ? undefined
    : ALGOS[options.algo];
  if (options.rsaPem !== undefined) {
    crypto.setRsa(plaintextTolerant(RsaKey.fromPem(options.rsaPem)));
  }
  if (options.aesKey !== undefined) {
    crypto.setAes(createAesCipher({
      algo: explicitAlgo ??
        (options.aesIv === undefined
          ? PacketEncAlgo.FTAES_ECB
          : PacketEncAlgo.AES_CBC),
      key: options.aesKey,
      iv: options.aesIv,
    }));
  }
  const learnAes = options.rsaPem !== undefined && options.aesKey === undefined;
  let aesLearnt = false;
  let requestedAlgo: number | undefined;
  const decoder = new FrameDecoder({
    crypto,
    maxBodyBytes: options.maxBodyBytes,
  });
  const formats = new HeaderFormats();
  const hints = new Set<string>();
  const pending: DecodeRecord[] = [];

  const onPacket = (packet: DecodedPacket): DecodeRecord => {
    const base = {
      protoId: packet.protoId,
      protoFmt: packet.protoFmt,
      serialNo: packet.serialNo,
      bodyLen: packet.bodyLen,
    };
    if (!isMessageProtoId(packet.protoId)) {
      return { ...base, body: toBase64(packet.body) };
    }
    const [direction, message] = readMessage(
      packet,
      options.direction ?? "auto",
    );
    if (packet.protoId === ProtoId.InitConnect) {
      if (direction === "request") {
        const algo = (message.c2s as JsonObject | undefined)?.packetEncAlgo;
        requestedAlgo = typeof algo === "number" ? algo : undefined;
      } else if (learnAes) {
        const aes = aesFromInitConnect(message, explicitAlgo, requestedAlgo);
        crypto.setAes(aes);
        aesLearnt = aes !== undefined;
      }
    }
    return {
      ...base,
      message: options.showSecrets
        ? message
        : redact(packet.protoId, direction, message),
    };
  };

  // The likely cause of a packet that failed its decryption or SHA-1 check,
  // from what the user gave and learnt so far.
  const causeOf = (error: CodecError): string | undefined => {
    if (
      error.code !== CodecErrorCode.Sha1Mismatch &&
      error.code !== CodecErrorCode.DecryptFailed
    ) return undefined;
    if (options.rsaPem === undefined && options.aesKey === undefined) {
      return "the stream looks encrypted: give --rsa PEM_FILE (the RSA key configured in OpenD), or --aes-key KEY [--aes-iv IV]";
    }
    if (error.protoId === ProtoId.InitConnect) {
      return options.rsaPem === undefined
        ? "InitConnect is RSA-encrypted: only --rsa PEM_FILE reads it (an AES key does not)"
        : "InitConnect could not be decrypted with this RSA key: is it the one configured in OpenD?";
    }
    if (options.aesKey !== undefined) {
      return "these packets could not be decrypted with this AES key (check --aes-key, --aes-iv and --algo)";
    }
    if (aesLearnt) {
      return "these packets could not be decrypted with the AES key learnt from InitConnect";
    }
    return "the AES key is unknown: the stream holds no InitConnect response readable with this RSA key; give --aes-key KEY [--aes-iv IV]";
  };

  const failed = (error: CodecError): DecodeErrorRecord => {
    const record = errorRecord(error, formats.take(error.offset));
    const cause = causeOf(error);
    if (cause !== undefined && !hints.has(cause)) {
      hints.add(cause);
      record.error.hint = cause;
    }
    return record;
  };

  const collect = (result: ReturnType<FrameDecoder["push"]>[number]) => {
    if (!result.ok) {
      pending.push(failed(result.error));
      return;
    }
    formats.take(result.packet.offset);
    try {
      pending.push(onPacket(result.packet));
    } catch (error) {
      pending.push(errorRecord(asCodecError(error, result.packet), {
        protoId: result.packet.protoId,
        serialNo: result.packet.serialNo,
        protoFmt: result.packet.protoFmt,
      }));
    }
  };

  for await (const chunk of chunks) {
    formats.scan(chunk);
    decoder.pushEach(chunk, collect);
    yield* pending.splice(0);
    if (decoder.fatalError) return;
  }
  const truncated = decoder.finish();
  if (truncated) yield failed(truncated);
}

/**
 * The protoFmt of each packet header in the stream, by offset, read beside
 * the frame decoder (whose errors name protoId and serialNo, not the format),
 * so an error line names all three. Holds only the headers not yet reported.
 */
class HeaderFormats {
  #next = 0; // stream offset of the next header
  #at = 0; // stream offset of the next chunk
  #partial: number[] = [];
  #lost = false;
  readonly #byOffset = new Map<number, number>();

  scan(chunk: Uint8Array): void {
    const end = this.#at + chunk.length;
    while (!this.#lost && this.#next < end) {
      const from = Math.max(this.#next + this.#partial.length, this.#at);
      const need = 16 - this.#partial.length;
      const take = chunk.subarray(from - this.#at, from - this.#at + need);
      this.#partial.push(...take);
      if (this.#partial.length < 16) break;
      const h = this.#partial;
      if (h[0] !== 0x46 || h[1] !== 0x54) {
        this.#lost = true;
        break;
      }
      const bodyLen = (h[12] | h[13] << 8 | h[14] << 16 | h[15] << 24) >>> 0;
      this.#byOffset.set(this.#next, h[6]);
      this.#next += 44 + bodyLen;
      this.#partial = [];
    }
    this.#at = end;
  }

  /** The format of the header at `offset`, forgetting every header up to it. */
  take(offset: number | undefined): { protoFmt?: number } {
    if (offset === undefined) return {};
    const protoFmt = this.#byOffset.get(offset);
    for (const key of this.#byOffset.keys()) {
      if (key <= offset) this.#byOffset.delete(key);
    }
    return protoFmt === undefined ? {} : { protoFmt };
  }
}

// Secrets a capture holds in the clear once decrypted: the connection's AES
// key and IV, and the verification code a person typed.
function redact(
  protoId: number,
  direction: MessageDirection,
  message: JsonObject,
): JsonObject {
  const hide = (part: unknown, fields: string[]): unknown => {
    if (part === null || typeof part !== "object" || Array.isArray(part)) {
      return part;
    }
    const copy: JsonObject = { ...(part as JsonObject) };
    for (const field of fields) {
      if (typeof copy[field] === "string" && copy[field] !== "") {
        copy[field] = REDACTED;
      }
    }
    return copy;
  };
  if (protoId === ProtoId.InitConnect && direction === "response") {
    if (message.s2c === undefined) return message;
    return {
      ...message,
      s2c: hide(message.s2c, ["connAESKey", "aesCBCiv"]),
    } as JsonObject;
  }
  if (protoId === ProtoId.Verification && direction === "request") {
    if (message.c2s === undefined) return message;
    return { ...message, c2s: hide(message.c2s, ["code"]) } as JsonObject;
  }
  return message;
}

function readMessage(
  packet: DecodedPacket,
  direction: "auto" | MessageDirection,
): [MessageDirection, JsonObject] {
  if (packet.protoId === ProtoId.Notify) {
    return [
      "response",
      toJsonMapping(packet.protoId, "response", packet.body, packet.protoFmt),
    ];
  }
  if (direction !== "auto") {
    return [
      direction,
      toJsonMapping(packet.protoId, direction, packet.body, packet.protoFmt),
    ];
  }
  const first = guessDirection(packet);
  const second: MessageDirection = first === "request" ? "response" : "request";
  try {
    return [
      first,
      toJsonMapping(packet.protoId, first, packet.body, packet.protoFmt),
    ];
  } catch (firstError) {
    try {
      return [
        second,
        toJsonMapping(packet.protoId, second, packet.body, packet.protoFmt),
      ];
    } catch {
      throw firstError;
    }
  }
}

// A Request's field 1 is the c2s message (tag 0x0a); a Response's is the
// retType varint (tag 0x08). In JSON the first key says the same.
function guessDirection(packet: DecodedPacket): MessageDirection {
  if (packet.protoFmt === 1) {
    const text = new TextDecoder().decode(packet.body.subarray(0, 256));
    return /"c2s"/.test(text) && !/"retType"/.test(text)
      ? "request"
      : "response";
  }
  return packet.body[0] === 0x0a ? "request" : "response";
}

function aesFromInitConnect(
  response: JsonObject,
  explicitAlgo: number | undefined,
  requestedAlgo: number | undefined,
): BodyCipher | undefined {
  if (requestedAlgo === PacketEncAlgo.None) return undefined;
  const s2c = response.s2c as JsonObject | undefined;
  const key = s2c?.connAESKey;
  if (response.retType !== 0 || typeof key !== "string") return undefined;
  const iv = typeof s2c?.aesCBCiv === "string" && s2c.aesCBCiv !== ""
    ? s2c.aesCBCiv
    : undefined;
  const algo = explicitAlgo ??
    (iv === undefined ? PacketEncAlgo.FTAES_ECB : PacketEncAlgo.AES_CBC);
  return createAesCipher({ algo: algo as 0 | 1 | 2, key, iv });
}

// The official SDK RSA-encrypts its InitConnect request whenever a key is
// configured, but a peer without encryption answers in plaintext: when RSA
// fails, hand the bytes on unchanged and let the SHA-1 check decide.
function plaintextTolerant(rsa: BodyCipher): BodyCipher {
  return {
    encrypt: (plain) => rsa.encrypt(plain),
    decrypt(encrypted) {
      try {
        return rsa.decrypt(encrypted);
      } catch {
        return encrypted;
      }
    },
  };
}

function asCodecError(error: unknown, packet: DecodedPacket): CodecError {
  if (error instanceof CodecError && error.offset !== undefined) return error;
  const code = error instanceof CodecError
    ? error.code
    : CodecErrorCode.InvalidMessage;
  const message = error instanceof Error ? error.message : String(error);
  return new CodecError(code, message, {
    offset: packet.offset,
    protoId: packet.protoId,
    serialNo: packet.serialNo,
  });
}

function errorRecord(
  error: CodecError,
  header: { protoId?: number; serialNo?: number; protoFmt?: number } = {},
): DecodeErrorRecord {
  const record: DecodeErrorRecord = {
    error: { code: error.code, message: error.message },
    offset: error.offset ?? -1,
  };
  const protoId = error.protoId ?? header.protoId;
  const serialNo = error.serialNo ?? header.serialNo;
  if (protoId !== undefined) record.protoId = protoId;
  if (serialNo !== undefined) record.serialNo = serialNo;
  if (protoId !== undefined && header.protoFmt !== undefined) {
    record.protoFmt = header.protoFmt;
  }
  return record;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const USAGE = `Usage: deno task decode [FILE] [options]
Reads a raw OpenD TCP byte stream (FILE, or stdin) and prints one JSON line per packet.
  --rsa PEM_FILE     RSA private key (PKCS#1 PEM) for InitConnect; the AES key is then
                     learnt from the InitConnect response
  --aes-key KEY      the connection's AES key (connAESKey, 16 characters)
  --aes-iv IV        the connection's AES-CBC IV (aesCBCiv, 16 characters)
  --algo MODE        ftaes_ecb | aes_ecb | aes_cbc (default: aes_cbc with an IV, else ftaes_ecb)
  --direction DIR    auto | request | response (default auto: told apart per packet)
  --max-body-bytes N largest body accepted (default 67108864)
  --show-secrets     print the AES key and IV learnt from InitConnect and the codes of
                     Verification requests (default: "${REDACTED}")
  -h, --help         this text
Exit status: 0 clean, 1 after an error line, 2 bad arguments.`;

const COMMAND = "decode";

/** Runs the command line; resolves to the exit status. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, {
    args,
    allowPositionals: true,
    options: {
      rsa: { type: "string" },
      "aes-key": { type: "string" },
      "aes-iv": { type: "string" },
      algo: { type: "string" },
      direction: { type: "string" },
      "max-body-bytes": { type: "string" },
      "show-secrets": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const algo = values.algo?.toLowerCase();
  if (algo !== undefined && !(algo in ALGOS)) {
    return refuse(COMMAND, "--algo must be ftaes_ecb, aes_ecb or aes_cbc");
  }
  if (
    algo !== undefined && values["aes-key"] === undefined &&
    values.rsa === undefined
  ) {
    return refuse(COMMAND, "--algo needs --aes-key or --rsa");
  }
  if (values["aes-iv"] !== undefined && values["aes-key"] === undefined) {
    return refuse(COMMAND, "--aes-iv needs --aes-key");
  }
  const direction = values.direction ?? "auto";
  if (!["auto", "request", "response"].includes(direction)) {
    return refuse(COMMAND, "--direction must be auto, request or response");
  }
  if (positionals.length > 1) {
    return refuse(COMMAND, "expected at most one FILE");
  }
  const maxBodyBytes = values["max-body-bytes"] === undefined
    ? undefined
    : Number(values["max-body-bytes"]);
  if (
    maxBodyBytes !== undefined &&
    !(Number.isInteger(maxBodyBytes) && maxBodyBytes >= 0)
  ) {
    return refuse(COMMAND, "--max-body-bytes must be a non-negative integer");
  }
  let options: DecodeOptions;
  let input: AsyncIterable<Uint8Array>;
  try {
    options = {
      rsaPem: values.rsa === undefined
        ? undefined
        : readFileSync(values.rsa, "utf8"),
      aesKey: values["aes-key"],
      aesIv: values["aes-iv"],
      algo: algo as DecodeOptions["algo"],
      direction: direction as DecodeOptions["direction"],
      maxBodyBytes,
      showSecrets: values["show-secrets"] ?? false,
    };
    input = positionals.length === 1
      ? (await Deno.open(positionals[0])).readable
      : Deno.stdin.readable;
  } catch (error) {
    return refuse(
      COMMAND,
      error instanceof CodecError ? error.message : (error as Error).message,
    );
  }
  let status = 0;
  let packets = 0;
  let failures = 0;
  const hints: string[] = [];
  const encoder = new TextEncoder();
  try {
    for await (const record of decodeStream(input, options)) {
      packets++;
      if ("error" in record) {
        status = 1;
        failures++;
        if (record.error.hint !== undefined) hints.push(record.error.hint);
      }
      await writeAll(encoder.encode(JSON.stringify(record) + "\n"));
    }
  } catch (error) {
    // A reader that stopped early (`| head`) is not an error of ours.
    if (error instanceof Deno.errors.BrokenPipe) return status;
    console.error(
      `${COMMAND}: ${
        error instanceof CodecError ? error.message : (error as Error).message
      }`,
    );
    return 2;
  }
  if (hints.length > 0) {
    console.error(
      `${COMMAND}: ${failures} of ${packets} packets failed: ${
        hints.join("; ")
      }`,
    );
  }
  return status;
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
