import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  type DecodeOptions,
  type DecodeRecord,
  decodeStream,
  REDACTED,
} from "../cli/decode.ts";
import { EXAMPLE_AES, exampleSession } from "../scripts/make_examples.ts";
import {
  createAesCipher,
  encodePacket,
  encodeRequest,
  generateRsaKeyPem,
  PacketCrypto,
  PacketEncAlgo,
  ProtoId,
} from "../codec/mod.ts";

const examples = new URL("../examples/", import.meta.url);
const demoPem = Deno.readTextFileSync(new URL("demo_rsa_key.pem", examples));

async function decodeAll(
  bytes: Uint8Array,
  options?: DecodeOptions,
  chunk = 97,
): Promise<DecodeRecord[]> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) {
      yield bytes.slice(i, i + chunk);
    }
  }
  const records: DecodeRecord[] = [];
  for await (const record of decodeStream(chunks(), options)) {
    records.push(record);
  }
  return records;
}

// Drops what legitimately differs between a plaintext and an encrypted session.
function comparable(records: DecodeRecord[]) {
  return records.map((r) => {
    if ("error" in r) return r;
    const { bodyLen: _, ...rest } = r;
    const text = JSON.stringify(rest).replace(/"packetEncAlgo":-?\d+,?/, "")
      .replace(/,?"aesCBCiv":"[^"]*"/, "");
    return JSON.parse(text);
  });
}

async function runCli(args: string[], stdin?: Uint8Array) {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      new URL("../cli/decode.ts", import.meta.url).pathname,
      ...args,
    ],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const child = command.spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder().decode(stdout);
  return {
    code,
    lines: text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("decode prints the shipped example session, one JSON line per packet, exit 0", async () => {
  const { code, lines } = await runCli([
    new URL("session.bin", examples).pathname,
  ]);
  assertEquals(code, 0);
  assertEquals(lines.length, 12);
  assertEquals(lines[0], {
    protoId: 1001,
    protoFmt: 0,
    serialNo: 4243,
    bodyLen: 38,
    message: {
      c2s: {
        clientVer: 300,
        clientID: "PyNormal",
        recvNotify: true,
        packetEncAlgo: -1,
        pushProtoFmt: 0,
        programmingLanguage: "Python",
      },
    },
  });
  assertEquals(lines[1].message.s2c.connID, "7188300283432012345");
  assertEquals(lines[6], {
    protoId: 3005,
    protoFmt: 0,
    serialNo: 0,
    bodyLen: 7,
    body: "CAAiAwoBMQ==",
  });
  assertEquals(lines[7].message.s2c.event, {
    eventType: 7,
    desc: "Account logged in on another device",
  });
  assertEquals(lines[9].protoFmt, 1);
  assertEquals(lines[9].message.s2c.event.eventType, 11);
});

Deno.test("decode reads stdin when no file is given", async () => {
  const { code, lines } = await runCli([], exampleSession());
  assertEquals(code, 0);
  assertEquals(lines.length, 12);
});

Deno.test("an RSA + AES-CBC session decodes with only --rsa: the AES key is learnt from InitConnect", async () => {
  const encrypted = Deno.readFileSync(
    new URL("session_encrypted.bin", examples),
  );
  const { code, lines } = await runCli([
    new URL("session_encrypted.bin", examples).pathname,
    "--rsa",
    new URL("demo_rsa_key.pem", examples).pathname,
    "--show-secrets",
  ]);
  assertEquals(code, 0);
  assertEquals(
    comparable(lines),
    comparable(await decodeAll(exampleSession(), { showSecrets: true })),
  );
  assertEquals(
    lines[0].bodyLen,
    128,
    "InitConnect travels as one 128-byte RSA block",
  );
  assertEquals(lines[1].message.s2c.aesCBCiv, EXAMPLE_AES.iv);
  assertEquals(lines[1].message.s2c.connAESKey, EXAMPLE_AES.key);
  assert(encrypted.length > exampleSession().length);
});

Deno.test("an RSA + FTAES_ECB session decodes with only --rsa", async () => {
  const records = await decodeAll(exampleSession(demoPem, { cbc: false }), {
    rsaPem: demoPem,
  });
  assertEquals(
    comparable(records),
    comparable(await decodeAll(exampleSession())),
  );
  const keepAlive = records[4];
  assert(!("error" in keepAlive));
  assertEquals(
    keepAlive.bodyLen,
    32,
    "8-byte body: one zero-padded block plus the FTAES tail block",
  );
});

Deno.test("--aes-key and --aes-iv decode the AES part of a stream without the RSA key", async () => {
  const records = await decodeAll(exampleSession(demoPem), {
    aesKey: EXAMPLE_AES.key,
    aesIv: EXAMPLE_AES.iv,
  });
  assertEquals(records.slice(0, 2).map((r) => "error" in r && r.error.code), [
    "SHA1_MISMATCH",
    "SHA1_MISMATCH",
  ]);
  assertEquals(
    comparable(records.slice(2)),
    comparable((await decodeAll(exampleSession())).slice(2)),
  );
});

Deno.test("a wrong RSA key: every packet is an error naming its header, the first says why", async () => {
  const other = generateRsaKeyPem(1024);
  const records = await decodeAll(exampleSession(demoPem), { rsaPem: other });
  assertEquals(records.length, 12);
  assertEquals(records[0], {
    error: {
      code: "SHA1_MISMATCH",
      message:
        "SHA-1 of the body of protoID 1001 serialNo 4243 differs from its header's",
      hint:
        "InitConnect could not be decrypted with this RSA key: is it the one configured in OpenD?",
    },
    offset: 0,
    protoId: 1001,
    serialNo: 4243,
    protoFmt: 0,
  });
  assert(records.every((r) => "error" in r));
  assertStringIncludes(
    "error" in records[2] && records[2].error.hint || "",
    "the AES key is unknown",
  );
  assertEquals(
    records.filter((r) => "error" in r && r.error.hint !== undefined).length,
    2,
    "each cause is told once",
  );
});

Deno.test("error lines name each packet's protoFmt however the stream is chunked", async () => {
  const plain = await decodeAll(exampleSession());
  const formats = plain.map((r) => "error" in r ? -1 : r.protoFmt);
  assert(formats.includes(1), "the example session holds a JSON packet");
  for (const chunk of [1, 7, 44, 45, 1_000]) {
    const records = await decodeAll(exampleSession(demoPem), {}, chunk);
    assertEquals(
      records.map((r) => "error" in r ? r.protoFmt : undefined),
      formats,
      `chunks of ${chunk} bytes`,
    );
  }
});

Deno.test("an encrypted capture decoded without a key says so: on the first error line and in one stderr line", async () => {
  const { code, lines, stderr } = await runCli(
    [],
    exampleSession(demoPem),
  );
  assertEquals(code, 1);
  assertEquals(lines.length, 12);
  assertStringIncludes(lines[0].error.hint, "the stream looks encrypted");
  assertEquals(lines[0].protoFmt, 0);
  assert(lines.slice(1).every((l) => l.error.hint === undefined));
  const stderrLines = stderr.trim().split("\n");
  assertEquals(stderrLines.length, 1);
  assertStringIncludes(stderrLines[0], "12 of 12 packets failed");
  assertStringIncludes(stderrLines[0], "give --rsa PEM_FILE");
});

Deno.test("a wrong AES key is named as the likely cause", async () => {
  const records = await decodeAll(exampleSession(demoPem), {
    aesKey: "0000000000000000",
    aesIv: EXAMPLE_AES.iv,
  });
  const hints = records.flatMap((r) =>
    "error" in r && r.error.hint ? [r.error.hint] : []
  );
  assertEquals(hints.length, 2);
  assertStringIncludes(hints[0], "only --rsa PEM_FILE reads it");
  assertStringIncludes(hints[1], "could not be decrypted with this AES key");
  const keepAlive = records[4];
  assert("error" in keepAlive);
  assertEquals(
    [keepAlive.protoId, keepAlive.protoFmt],
    [ProtoId.KeepAlive, 0],
  );
});

Deno.test("secrets are redacted unless --show-secrets: AES key and IV, verification codes", async () => {
  const aes = new PacketCrypto();
  aes.setAes(createAesCipher({
    algo: PacketEncAlgo.AES_CBC,
    key: EXAMPLE_AES.key,
    iv: EXAMPLE_AES.iv,
  }));
  const verify = encodePacket({
    protoId: ProtoId.Verification,
    serialNo: 9,
    body: encodeRequest(ProtoId.Verification, {
      type: 2,
      op: 2,
      code: "246810",
    }),
  }, aes);
  const stream = new Uint8Array([...exampleSession(demoPem), ...verify]);
  const { code, lines } = await runCli(
    ["--rsa", new URL("demo_rsa_key.pem", examples).pathname],
    stream,
  );
  assertEquals(code, 0);
  const text = lines.map((l) => JSON.stringify(l)).join("\n");
  for (const secret of [EXAMPLE_AES.key, EXAMPLE_AES.iv, "246810"]) {
    assert(!text.includes(secret), "a secret in the output");
  }
  assertEquals(lines[1].message.s2c.connAESKey, REDACTED);
  assertEquals(lines[1].message.s2c.aesCBCiv, REDACTED);
  assertEquals(lines[12].message.c2s, { type: 2, op: 2, code: REDACTED });
  assertEquals(
    lines.length,
    13,
    "the redacted key still decrypts the rest of the stream",
  );
  const shown = await runCli([
    "--rsa",
    new URL("demo_rsa_key.pem", examples).pathname,
    "--show-secrets",
  ], stream);
  assertEquals(shown.lines[12].message.c2s.code, "246810");
});

Deno.test("a stream cut inside a packet ends with TRUNCATED at that packet's offset, exit 1", async () => {
  const bytes = exampleSession();
  const cut = bytes.slice(0, bytes.length - 5);
  const { code, lines } = await runCli([], cut);
  assertEquals(code, 1);
  assertEquals(lines.length, 12);
  assertEquals(lines[11].error.code, "TRUNCATED");
  assertEquals(
    lines[11].offset,
    bytes.length - 48,
    "the last packet (4-byte body) starts 48 bytes from the end",
  );
});

Deno.test("garbage in the middle of a stream stops decoding with BAD_MAGIC at its offset", async () => {
  const first = encodePacket({
    protoId: ProtoId.KeepAlive,
    serialNo: 1,
    body: encodeRequest(ProtoId.KeepAlive, { time: 1 }),
  });
  const garbage = new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n");
  const bytes = new Uint8Array([...first, ...garbage, ...first]);
  const { code, lines } = await runCli([], bytes);
  assertEquals(code, 1);
  assertEquals(lines.length, 2);
  assertEquals(lines[1].error.code, "BAD_MAGIC");
  assertEquals(lines[1].offset, first.length);
});

Deno.test("a malformed body of a known protocol is reported and the next packet still decodes", async () => {
  const bad = encodePacket({
    protoId: ProtoId.KeepAlive,
    serialNo: 2,
    body: new Uint8Array([0xff, 0xff]),
  });
  const good = encodePacket({
    protoId: ProtoId.KeepAlive,
    serialNo: 3,
    body: encodeRequest(ProtoId.KeepAlive, { time: 5 }),
  });
  const records = await decodeAll(new Uint8Array([...bad, ...good]), {}, 1);
  assertEquals(records.length, 2);
  assert(
    "error" in records[0] && records[0].error.code === "MALFORMED_PROTOBUF",
  );
  assertEquals("error" in records[0] && records[0].offset, 0);
  assertEquals(
    "error" in records[0] &&
      [records[0].protoId, records[0].serialNo, records[0].protoFmt],
    [ProtoId.KeepAlive, 2, 0],
    "the error line names the packet that broke",
  );
  assertEquals(
    !("error" in records[1]) && "message" in records[1] && records[1].message,
    { c2s: { time: "5" } },
  );
});

Deno.test("--direction forces the message type", async () => {
  const records = await decodeAll(exampleSession(), { direction: "request" });
  assert(!("error" in records[0]));
  assert("error" in records[1], "a response read as a request is malformed");
});

Deno.test("bad arguments exit 2 with one line saying what is wrong; --help prints the usage", async () => {
  for (
    const [args, problem] of [
      [["--algo", "rot13"], "--algo must be"],
      [["--chek"], "unknown option --chek"],
      [["--rsa"], "--rsa needs a value"],
    ] as const
  ) {
    const { code, stderr } = await runCli([...args]);
    assertEquals(code, 2);
    assertEquals(stderr.trim().split("\n").length, 1, stderr);
    assertStringIncludes(stderr, `decode: ${problem}`);
  }
  const help = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      new URL("../cli/decode.ts", import.meta.url).pathname,
      "--help",
    ],
  }).output();
  assertEquals(help.code, 0);
  assertStringIncludes(
    new TextDecoder().decode(help.stdout),
    "Usage: deno task decode",
  );
});

Deno.test("an unreadable RSA key exits 2 without printing the key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pem = `${dir}/bad.pem`;
    await Deno.writeTextFile(
      pem,
      "-----BEGIN RSA PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END RSA PRIVATE KEY-----\n",
    );
    const { code, stderr } = await runCli(["--rsa", pem], exampleSession());
    assertEquals(code, 2);
    assert(!stderr.includes("Tk9UQUtFWQ"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--algo without a key, or --aes-iv without --aes-key, exits 2", async () => {
  assertEquals((await runCli(["--algo", "aes_cbc"], exampleSession())).code, 2);
  assertEquals(
    (await runCli(["--aes-iv", EXAMPLE_AES.iv], exampleSession())).code,
    2,
  );
});

Deno.test("a reader that stops early (| head -1) is not an error: exit 0, nothing on stderr", async () => {
  const one = exampleSession();
  const many = new Uint8Array(one.length * 300);
  for (let i = 0; i < 300; i++) many.set(one, i * one.length);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      new URL("../cli/decode.ts", import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const feeding = writer.write(many).then(() => writer.close()).catch(() => {});
  const reader = child.stdout.getReader();
  await reader.read();
  await reader.cancel();
  const [{ code }, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  await feeding;
  assertEquals(code, 0, stderr);
  assertEquals(stderr, "");
});
