/**
 * `deno task decode [FILE]`: prints every packet of a raw OpenD TCP byte
 * stream as one JSON line.
 *
 * Reads a file or stdin (for example what a packet capture's "follow TCP
 * stream" saves as raw bytes), requests and responses alike. Known protocols
 * print their message in protobuf's JSON mapping; other protoIDs print their
 * (decrypted) body as base64; a bad packet prints
 * `{"error":{"code","message"},"offset"}`.
 *
 * Encrypted streams: `--rsa PEM_FILE` decrypts InitConnect and, when the
 * stream holds the InitConnect response, learns the connection's AES key from
 * it (CBC when it carries `aesCBCiv`, else FTAES_ECB, as the official SDKs do);
 * `--aes-key`, `--aes-iv` and `--algo` give the AES key directly.
 *
 * Exit status: 0 when the stream was read to its end cleanly, 1 after printing
 * any error line, 2 for bad arguments.
 * @module
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
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
  | { error: { code: string; message: string }; offset: number };

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
  let requestedAlgo: number | undefined;
  const decoder = new FrameDecoder({
    crypto,
    maxBodyBytes: options.maxBodyBytes,
  });
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
        crypto.setAes(aesFromInitConnect(message, explicitAlgo, requestedAlgo));
      }
    }
    return { ...base, message };
  };

  const collect = (result: ReturnType<FrameDecoder["push"]>[number]) => {
    if (!result.ok) {
      pending.push(errorRecord(result.error));
      return;
    }
    try {
      pending.push(onPacket(result.packet));
    } catch (error) {
      pending.push(errorRecord(asCodecError(error, result.packet.offset)));
    }
  };

  for await (const chunk of chunks) {
    decoder.pushEach(chunk, collect);
    yield* pending.splice(0);
    if (decoder.fatalError) return;
  }
  const truncated = decoder.finish();
  if (truncated) yield errorRecord(truncated);
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

function asCodecError(error: unknown, offset: number): CodecError {
  if (error instanceof CodecError && error.offset !== undefined) return error;
  const code = error instanceof CodecError
    ? error.code
    : CodecErrorCode.InvalidMessage;
  const message = error instanceof Error ? error.message : String(error);
  return new CodecError(code, message, { offset });
}

function errorRecord(error: CodecError): DecodeRecord {
  return {
    error: { code: error.code, message: error.message },
    offset: error.offset ?? -1,
  };
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
Exit status: 0 clean, 1 after an error line, 2 bad arguments.`;

/** Runs the command line; resolves to the exit status. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        rsa: { type: "string" },
        "aes-key": { type: "string" },
        "aes-iv": { type: "string" },
        algo: { type: "string" },
        direction: { type: "string" },
        "max-body-bytes": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const algo = values.algo?.toLowerCase();
  if (algo !== undefined && !(algo in ALGOS)) {
    console.error(`--algo must be ftaes_ecb, aes_ecb or aes_cbc\n\n${USAGE}`);
    return 2;
  }
  if (
    algo !== undefined && values["aes-key"] === undefined &&
    values.rsa === undefined
  ) {
    console.error(`--algo needs --aes-key or --rsa\n\n${USAGE}`);
    return 2;
  }
  if (values["aes-iv"] !== undefined && values["aes-key"] === undefined) {
    console.error(`--aes-iv needs --aes-key\n\n${USAGE}`);
    return 2;
  }
  const direction = values.direction ?? "auto";
  if (!["auto", "request", "response"].includes(direction)) {
    console.error(`--direction must be auto, request or response\n\n${USAGE}`);
    return 2;
  }
  if (positionals.length > 1) {
    console.error(`expected at most one FILE\n\n${USAGE}`);
    return 2;
  }
  const maxBodyBytes = values["max-body-bytes"] === undefined
    ? undefined
    : Number(values["max-body-bytes"]);
  if (
    maxBodyBytes !== undefined &&
    !(Number.isInteger(maxBodyBytes) && maxBodyBytes >= 0)
  ) {
    console.error(
      `--max-body-bytes must be a non-negative integer\n\n${USAGE}`,
    );
    return 2;
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
    };
    input = positionals.length === 1
      ? (await Deno.open(positionals[0])).readable
      : Deno.stdin.readable;
  } catch (error) {
    console.error(
      error instanceof CodecError ? error.message : (error as Error).message,
    );
    return 2;
  }
  let status = 0;
  const encoder = new TextEncoder();
  try {
    for await (const record of decodeStream(input, options)) {
      if ("error" in record) status = 1;
      await writeAll(encoder.encode(JSON.stringify(record) + "\n"));
    }
  } catch (error) {
    // A reader that stopped early (`| head`) is not an error of ours.
    if (error instanceof Deno.errors.BrokenPipe) return status;
    console.error(
      error instanceof CodecError ? error.message : (error as Error).message,
    );
    return 2;
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
