import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertNotEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import fc from "fast-check";
import {
  constants,
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { inspect } from "node:util";
import { type AesAlgo, type AesCipher, createAesCipher } from "../codec/aes.ts";
import { CodecError, CodecErrorCode } from "../codec/codec_error.ts";
import { PacketEncAlgo } from "../codec/definitions.ts";
import { generateRsaKeyPem, RsaKey } from "../codec/rsa.ts";

const KEY = "Kq7#mZ2vX9pL4tWe";
const IV = "iv-Hx83Jd0Qa7Ls5";
const SIZES = [0, 1, 15, 16, 17, 1000];
const MODES: [string, AesAlgo][] = [
  ["FTAES_ECB", PacketEncAlgo.FTAES_ECB],
  ["AES_ECB", PacketEncAlgo.AES_ECB],
  ["AES_CBC", PacketEncAlgo.AES_CBC],
];

// Generated once per file: 2048-bit generation is the slowest step here.
const PEM_1024 = generateRsaKeyPem(1024);
const PEM_1024_OTHER = generateRsaKeyPem(1024);
const PEM_2048 = generateRsaKeyPem(2048);
const RSA_1024 = RsaKey.fromPem(PEM_1024);
const RSA_1024_OTHER = RsaKey.fromPem(PEM_1024_OTHER);
const RSA_2048 = RsaKey.fromPem(PEM_2048);

function hex(text: string): Uint8Array {
  return Uint8Array.from(
    text.match(/../g)!.map((byte) => parseInt(byte, 16)),
  );
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 17 + 7) & 0xff;
  return out;
}

function aes(algo: AesAlgo, key: string | Uint8Array = KEY): AesCipher {
  return createAesCipher({ algo, key, iv: IV });
}

// The codec promises DECRYPT_FAILED and nothing else for bad input.
function assertDecryptFailed(fn: () => unknown, label = ""): void {
  const error = assertThrows(fn, CodecError, undefined, label);
  assertEquals(error.code, CodecErrorCode.DecryptFailed, label);
}

function plainEcb(key: Uint8Array, input: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-128-ecb", key, null);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(input), cipher.final()]));
}

const KEY_BYTES = new TextEncoder().encode(KEY);
const IV_BYTES = new TextEncoder().encode(IV);

Deno.test("AES: round trips and exact ciphertext lengths", () => {
  for (const [name, algo] of MODES) {
    const cipher = aes(algo);
    assertEquals(cipher.algo, algo);
    for (const n of SIZES) {
      const plain = bytes(n);
      const encrypted = cipher.encrypt(plain);
      const expected = algo === PacketEncAlgo.FTAES_ECB
        ? Math.ceil(n / 16) * 16 + 16
        : (Math.floor(n / 16) + 1) * 16;
      assertEquals(encrypted.length, expected, `${name} length of ${n}`);
      assertEquals(cipher.decrypt(encrypted), plain, `${name} round trip ${n}`);
      assertEquals(encrypted.constructor, Uint8Array, `${name} plain array`);
    }
  }
});

Deno.test("FTAES_ECB: the tail block is plain and carries n % 16", () => {
  const cipher = aes(PacketEncAlgo.FTAES_ECB);
  for (const n of SIZES) {
    const encrypted = cipher.encrypt(bytes(n));
    const tail = encrypted.subarray(encrypted.length - 16);
    const expected = new Uint8Array(16);
    expected[15] = n % 16;
    assertEquals(tail, expected, `tail of ${n}`);
  }
  assertEquals(cipher.encrypt(new Uint8Array(0)), new Uint8Array(16));
});

Deno.test("AES: FIPS-197 and SP 800-38A known answers", () => {
  // FIPS-197 appendix C.1 (AES-128).
  const key = hex("000102030405060708090a0b0c0d0e0f");
  const plain = hex("00112233445566778899aabbccddeeff");
  const block = hex("69c4e0d86a7b0430d8cdb78070b4c55a");

  const ft = createAesCipher({ algo: PacketEncAlgo.FTAES_ECB, key });
  assertEquals(
    ft.encrypt(plain),
    Uint8Array.from([...block, ...new Uint8Array(16)]),
  );

  const ecb = createAesCipher({ algo: PacketEncAlgo.AES_ECB, key });
  const ecbOut = ecb.encrypt(plain);
  assertEquals(ecbOut.subarray(0, 16), block);
  // PKCS#7 adds a whole block of 0x10 when the input fills its blocks.
  assertEquals(ecbOut.subarray(16), plainEcb(key, new Uint8Array(16).fill(16)));

  // SP 800-38A F.2.1 (CBC-AES128.Encrypt), first block.
  const cbc = createAesCipher({
    algo: PacketEncAlgo.AES_CBC,
    key: hex("2b7e151628aed2a6abf7158809cf4f3c"),
    iv: hex("000102030405060708090a0b0c0d0e0f"),
  });
  assertEquals(
    cbc.encrypt(hex("6bc1bee22e409f96e93d7e117393172a")).subarray(0, 16),
    hex("7649abac8119b246cee98e9b12e9197d"),
  );
});

Deno.test("AES: outputs match plain node:crypto for a fixed key and IV", () => {
  for (const n of SIZES) {
    const plain = bytes(n, 3);

    const padded = new Uint8Array(Math.ceil(n / 16) * 16);
    padded.set(plain);
    const ft = aes(PacketEncAlgo.FTAES_ECB).encrypt(plain);
    assertEquals(ft.subarray(0, padded.length), plainEcb(KEY_BYTES, padded));

    const ecb = createCipheriv("aes-128-ecb", KEY_BYTES, null);
    assertEquals(
      aes(PacketEncAlgo.AES_ECB).encrypt(plain),
      new Uint8Array(Buffer.concat([ecb.update(plain), ecb.final()])),
    );

    const cbc = createCipheriv("aes-128-cbc", KEY_BYTES, IV_BYTES);
    assertEquals(
      aes(PacketEncAlgo.AES_CBC).encrypt(plain),
      new Uint8Array(Buffer.concat([cbc.update(plain), cbc.final()])),
    );
  }
});

Deno.test("AES_CBC: every packet restarts from the IV", () => {
  const cipher = aes(PacketEncAlgo.AES_CBC);
  const plain = bytes(40);
  assertEquals(cipher.encrypt(plain), cipher.encrypt(plain));
  const encrypted = cipher.encrypt(plain);
  cipher.encrypt(bytes(33, 9));
  assertEquals(cipher.decrypt(encrypted), plain);
});

Deno.test("AES: string and byte keys are the same key", () => {
  for (const [, algo] of MODES) {
    const fromText = aes(algo);
    const fromBytes = createAesCipher({ algo, key: KEY_BYTES, iv: IV_BYTES });
    assertEquals(fromBytes.encrypt(bytes(20)), fromText.encrypt(bytes(20)));
  }
});

Deno.test("AES: a different key does not decrypt to the plaintext", () => {
  for (const [, algo] of MODES) {
    const encrypted = aes(algo).encrypt(bytes(48));
    try {
      assertNotEquals(
        aes(algo, "another-16-bytes").decrypt(encrypted),
        bytes(48),
      );
    } catch (error) {
      assertInstanceOf(error, CodecError);
    }
  }
});

Deno.test("AES: truncated and malformed ciphertexts fail with DECRYPT_FAILED", () => {
  for (const [name, algo] of MODES) {
    const cipher = aes(algo);
    const encrypted = cipher.encrypt(bytes(40));
    assertDecryptFailed(
      () => cipher.decrypt(new Uint8Array(0)),
      `${name} empty`,
    );
    assertDecryptFailed(
      () => cipher.decrypt(encrypted.subarray(1)),
      `${name} -1`,
    );
    assertDecryptFailed(
      () => cipher.decrypt(encrypted.subarray(0, encrypted.length - 1)),
      `${name} cut`,
    );
    assertDecryptFailed(
      () => cipher.decrypt(Uint8Array.from([...encrypted, 0])),
      `${name} extra`,
    );
  }
  const ft = aes(PacketEncAlgo.FTAES_ECB);
  const encrypted = ft.encrypt(bytes(40));
  for (const tail of [16, 17, 255]) {
    const bad = encrypted.slice();
    bad[bad.length - 1] = tail;
    assertDecryptFailed(() => ft.decrypt(bad), `tail ${tail}`);
  }
  const lonelyTail = new Uint8Array(16);
  lonelyTail[15] = 5;
  assertDecryptFailed(() => ft.decrypt(lonelyTail), "tail without body");
});

Deno.test("AES: bad PKCS#7 padding fails with DECRYPT_FAILED", () => {
  const lastBlocks: [string, number[]][] = [
    ["zero", [0]],
    ["above 16", [17]],
    ["255", [255]],
    ["uneven", [1, 2, 3]],
    ["short run", [9, 9, 3, 3]],
  ];
  const ecb = aes(PacketEncAlgo.AES_ECB);
  const cbc = aes(PacketEncAlgo.AES_CBC);
  for (const [label, suffix] of lastBlocks) {
    const block = new Uint8Array(32).fill(0x41);
    block.set(suffix, 32 - suffix.length);
    assertDecryptFailed(() => ecb.decrypt(plainEcb(KEY_BYTES, block)), label);
    const raw = createCipheriv("aes-128-cbc", KEY_BYTES, IV_BYTES);
    raw.setAutoPadding(false);
    const encrypted = new Uint8Array(
      Buffer.concat([raw.update(block), raw.final()]),
    );
    assertDecryptFailed(() => cbc.decrypt(encrypted), `CBC ${label}`);
  }
  // A full block of 16s is the padding of a 16-byte-aligned plaintext.
  const full = new Uint8Array(32).fill(16);
  assertEquals(
    ecb.decrypt(plainEcb(KEY_BYTES, full)),
    new Uint8Array(16).fill(16),
  );
});

Deno.test("AES: bit flips give a CodecError or other bytes, never another error", () => {
  for (const [, algo] of MODES) {
    const cipher = aes(algo);
    const plain = bytes(37);
    const encrypted = cipher.encrypt(plain);
    for (let i = 0; i < encrypted.length; i++) {
      const bad = encrypted.slice();
      bad[i] ^= 0x80;
      try {
        cipher.decrypt(bad);
      } catch (error) {
        assertInstanceOf(error, CodecError);
        assertEquals(error.code, CodecErrorCode.DecryptFailed);
      }
    }
  }
});

Deno.test("AES: bad keys, IVs and algorithms fail with INVALID_KEY", () => {
  const cases: [string, () => unknown][] = [
    ["short key", () => aes(PacketEncAlgo.AES_ECB, "too-short-key")],
    ["long key", () => aes(PacketEncAlgo.AES_ECB, "a-key-that-is-too-long")],
    ["multibyte key", () => aes(PacketEncAlgo.AES_ECB, "ééééééééééééééé1")],
    ["byte key", () => aes(PacketEncAlgo.AES_ECB, new Uint8Array(15))],
    ["no IV", () => createAesCipher({ algo: PacketEncAlgo.AES_CBC, key: KEY })],
    [
      "short IV",
      () =>
        createAesCipher({ algo: PacketEncAlgo.AES_CBC, key: KEY, iv: "short" }),
    ],
    [
      "None",
      () => createAesCipher({ algo: PacketEncAlgo.None as AesAlgo, key: KEY }),
    ],
    ["7", () => createAesCipher({ algo: 7 as AesAlgo, key: KEY })],
  ];
  for (const [label, fn] of cases) {
    const error = assertThrows(fn, CodecError, undefined, label);
    assertEquals(error.code, CodecErrorCode.InvalidKey, label);
  }
});

Deno.test("AES: the key and IV never show in strings, inspect, JSON or errors", () => {
  const secrets = [KEY, IV, "Kq7#mZ2v", "Hx83Jd0Q"];
  for (const [name, algo] of MODES) {
    const cipher = aes(algo);
    const shown = [
      String(cipher),
      `${cipher}`,
      Deno.inspect(cipher),
      Deno.inspect(cipher, { showHidden: true, depth: 10 }),
      Deno.inspect({ nested: [cipher] }),
      inspect(cipher, { showHidden: true }),
      JSON.stringify(cipher),
      JSON.stringify({ cipher }),
    ];
    for (const text of shown) {
      for (const secret of secrets) {
        assert(!text.includes(secret), `${name} shows a secret in ${text}`);
      }
      assertStringIncludes(text, name);
    }
    assertEquals(String(cipher), `AesCipher { algo: "${name}" }`);
    assertEquals(JSON.parse(JSON.stringify(cipher)), { algo: name });
  }
  const badKey = "Zx9-leaky-key-15";
  const badIv = "leaky-iv-17bytes!";
  for (
    const fn of [
      () => aes(PacketEncAlgo.AES_ECB, `${badKey}!`),
      () =>
        createAesCipher({ algo: PacketEncAlgo.AES_CBC, key: KEY, iv: badIv }),
    ]
  ) {
    const error = assertThrows(fn, CodecError);
    const text = `${error.message}\n${error.stack}\n${JSON.stringify(error)}`;
    for (const secret of [badKey, badIv, KEY]) {
      assert(!text.includes(secret), `INVALID_KEY shows a secret: ${text}`);
    }
  }
});

Deno.test("RSA: key sizes and both PEM forms", () => {
  assertEquals(RSA_1024.bits, 1024);
  assertEquals(RSA_2048.bits, 2048);
  assert(PEM_1024.startsWith("-----BEGIN RSA PRIVATE KEY-----"));
  const pkcs8Pem = createPrivateKey(PEM_1024)
    .export({ type: "pkcs8", format: "pem" })
    .toString();
  assert(pkcs8Pem.startsWith("-----BEGIN PRIVATE KEY-----"));
  const pkcs8 = RsaKey.fromPem(new TextEncoder().encode(pkcs8Pem));
  assertEquals(pkcs8.bits, 1024);
  assertEquals(pkcs8.decrypt(RSA_1024.encrypt(bytes(150))), bytes(150));
  assertEquals(RSA_1024.decrypt(pkcs8.encrypt(bytes(150))), bytes(150));
});

Deno.test("RSA: round trips and chunked ciphertext lengths", () => {
  for (
    const [key, keyBytes, chunk] of [[RSA_1024, 128, 100], [
      RSA_2048,
      256,
      200,
    ]] as const
  ) {
    for (const n of [0, 1, 99, 100, 101, 250, 1000]) {
      const plain = bytes(n, 5);
      const encrypted = key.encrypt(plain);
      assertEquals(
        encrypted.length,
        Math.ceil(n / chunk) * keyBytes,
        `${key} ${n}`,
      );
      assertEquals(key.decrypt(encrypted), plain, `${key} round trip ${n}`);
      assertEquals(encrypted.constructor, Uint8Array);
    }
  }
  assertEquals(RSA_1024.encrypt(new Uint8Array(0)), new Uint8Array(0));
  assertEquals(RSA_1024.decrypt(new Uint8Array(0)), new Uint8Array(0));
});

Deno.test("RSA: interoperates with node:crypto PKCS#1 v1.5", () => {
  const publicKey = createPublicKey(PEM_1024);
  const message = bytes(100, 2);
  const chunk = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
    message,
  );
  assertEquals(RSA_1024.decrypt(chunk), message);

  // Deno (unlike Node >= 20) still allows PKCS#1 v1.5 private decryption.
  const plain = bytes(250, 4);
  const encrypted = RSA_1024.encrypt(plain);
  const parts: number[] = [];
  for (let at = 0; at < encrypted.length; at += 128) {
    parts.push(
      ...privateDecrypt(
        { key: PEM_1024, padding: constants.RSA_PKCS1_PADDING },
        encrypted.subarray(at, at + 128),
      ),
    );
  }
  assertEquals(Uint8Array.from(parts), plain);
});

Deno.test("RSA: a different key fails with DECRYPT_FAILED", () => {
  // Three chunks: a false success would need three valid paddings at once.
  const encrypted = RSA_1024.encrypt(bytes(250));
  assertDecryptFailed(() => RSA_1024_OTHER.decrypt(encrypted));
  // 768 bytes are six whole 1024-bit chunks, so padding checks decide.
  assertDecryptFailed(() => RSA_1024.decrypt(RSA_2048.encrypt(bytes(450))));
});

Deno.test("RSA: lengths that are not whole chunks fail with DECRYPT_FAILED", () => {
  const encrypted = RSA_1024.encrypt(bytes(150));
  assertDecryptFailed(() => RSA_1024.decrypt(encrypted.subarray(1)));
  assertDecryptFailed(() => RSA_1024.decrypt(encrypted.subarray(0, 127)));
  assertDecryptFailed(() =>
    RSA_1024.decrypt(Uint8Array.from([...encrypted, 1]))
  );
  assertDecryptFailed(() => RSA_2048.decrypt(encrypted.subarray(0, 128)));
  // A value at or above the modulus is not a ciphertext.
  assertDecryptFailed(() => RSA_1024.decrypt(new Uint8Array(128).fill(0xff)));
});

Deno.test("RSA: every PKCS#1 v1.5 padding violation fails alike", () => {
  const publicKey = createPublicKey(PEM_1024);
  // Encrypts a hand-made encoded block with raw RSA.
  const raw = (block: Uint8Array) =>
    new Uint8Array(
      publicEncrypt(
        { key: publicKey, padding: constants.RSA_NO_PADDING },
        block,
      ),
    );
  const block = (build: (b: Uint8Array) => void) => {
    const b = new Uint8Array(128).fill(0x5a);
    b[0] = 0;
    b[1] = 2;
    b[20] = 0;
    build(b);
    return b;
  };
  const valid = block(() => {});
  assertEquals(RSA_1024.decrypt(raw(valid)), valid.slice(21));
  const shortest = block((b) => {
    b[20] = 0x5a;
    b[10] = 0;
  });
  assertEquals(RSA_1024.decrypt(raw(shortest)), shortest.slice(11));
  const emptyMessage = block((b) => {
    b[20] = 0x5a;
    b[127] = 0;
  });
  assertEquals(RSA_1024.decrypt(raw(emptyMessage)), new Uint8Array(0));

  const bad: [string, Uint8Array][] = [
    ["block type 1", block((b) => (b[1] = 1))],
    ["block type 0", block((b) => (b[1] = 0))],
    ["padding of 7 bytes", block((b) => (b[9] = 0))],
    ["zero right after the type", block((b) => (b[2] = 0))],
    ["no separator", block((b) => (b[20] = 0x5a))],
  ];
  const messages = new Set<string>();
  for (const [label, b] of bad) {
    const error = assertThrows(
      () => RSA_1024.decrypt(raw(b)),
      CodecError,
      undefined,
      label,
    );
    assertEquals(error.code, CodecErrorCode.DecryptFailed, label);
    messages.add(error.message);
  }
  // A non-zero first byte needs a value below the modulus: use a real one.
  const top = createPrivateKey(PEM_1024).export({ format: "jwk" }).n as string;
  const modulus = new Uint8Array(Buffer.from(top, "base64url"));
  const first = modulus.slice();
  first[127] = 0;
  first[1] = 2;
  first[0] = first[0] - 1;
  const error = assertThrows(() => RSA_1024.decrypt(raw(first)), CodecError);
  messages.add(error.message);
  assertEquals(messages.size, 1, [...messages].join(" | "));
});

Deno.test("RSA: a bad PEM fails with INVALID_KEY and never echoes it", () => {
  const lines = PEM_1024.trim().split("\n");
  const cases: [string, string | Uint8Array][] = [
    ["empty", ""],
    ["not PEM", "hello"],
    ["damaged body", [lines[0], ...lines.slice(3)].join("\n")],
    ["missing middle", [...lines.slice(0, 4), ...lines.slice(8)].join("\n")],
    [
      "garbled",
      PEM_1024.replace(lines[2], lines[2].split("").reverse().join("")),
    ],
    [
      "public key",
      createPublicKey(PEM_1024).export({ type: "spki", format: "pem" })
        .toString(),
    ],
    ["bytes", new TextEncoder().encode(lines.slice(0, -2).join("\n"))],
  ];
  const pemLines = lines.filter((line) => line.length > 8);
  for (const [label, pem] of cases) {
    const error = assertThrows(
      () => RsaKey.fromPem(pem),
      CodecError,
      undefined,
      label,
    );
    assertEquals(error.code, CodecErrorCode.InvalidKey, label);
    const text = `${error.message}\n${error.stack}\n${JSON.stringify(error)}`;
    for (const line of pemLines) {
      assert(!text.includes(line), `${label}: error shows "${line}"`);
    }
  }
});

Deno.test("RSA: the key never shows in strings, inspect or JSON", () => {
  for (
    const [key, pem] of [[RSA_1024, PEM_1024], [RSA_2048, PEM_2048]] as const
  ) {
    const shown = [
      String(key),
      `${key}`,
      Deno.inspect(key),
      Deno.inspect(key, { showHidden: true, depth: 10 }),
      Deno.inspect({ nested: [key] }),
      inspect(key, { showHidden: true }),
      JSON.stringify(key),
      JSON.stringify({ key }),
    ];
    const pemLines = pem.trim().split("\n").filter((line) =>
      !line.startsWith("-----")
    );
    for (const text of shown) {
      assertStringIncludes(text, String(key.bits));
      assert(!text.includes("PRIVATE"), text);
      for (const line of pemLines) {
        assert(!text.includes(line.slice(0, 16)), text);
      }
    }
    assertEquals(String(key), `RsaKey { bits: ${key.bits} }`);
    assertEquals(JSON.parse(JSON.stringify(key)), { bits: key.bits });
  }
});

Deno.test("property: decrypt(encrypt(x)) is x in every mode", () => {
  for (const [name, algo] of MODES) {
    const cipher = aes(algo);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (plain) => {
        assertEquals(cipher.decrypt(cipher.encrypt(plain)), plain, name);
      }),
      { numRuns: 200 },
    );
  }
  for (const key of [RSA_1024, RSA_2048]) {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 450 }), (plain) => {
        assertEquals(key.decrypt(key.encrypt(plain)), plain, String(key));
      }),
      { numRuns: 25 },
    );
  }
});

Deno.test("property: decrypting random bytes only ever throws CodecError", () => {
  const onlyCodecErrors =
    (decrypt: (bytes: Uint8Array) => Uint8Array) => (input: Uint8Array) => {
      try {
        decrypt(input);
      } catch (error) {
        assertInstanceOf(error, CodecError);
        assertEquals(error.code, CodecErrorCode.DecryptFailed);
      }
    };
  for (const [, algo] of MODES) {
    const cipher = aes(algo);
    const check = onlyCodecErrors((b) => cipher.decrypt(b));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), check), {
      numRuns: 300,
    });
    // Whole blocks reach the cipher and padding checks, not just the length check.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((blocks) =>
          fc.uint8Array({ minLength: blocks * 16, maxLength: blocks * 16 })
        ),
        check,
      ),
      { numRuns: 300 },
    );
  }
  for (const [key, keyBytes] of [[RSA_1024, 128], [RSA_2048, 256]] as const) {
    const check = onlyCodecErrors((b) => key.decrypt(b));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), {
      numRuns: 50,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }).chain((chunks) =>
          fc.uint8Array({
            minLength: chunks * keyBytes,
            maxLength: chunks * keyBytes,
          })
        ),
        check,
      ),
      { numRuns: 25 },
    );
  }
});

Deno.test("RsaKey.fromPem accepts key files with blank lines around the PEM and CRLF line ends", () => {
  const pem = generateRsaKeyPem(1024);
  const messy = `\n\n${pem.replace(/\n/g, "\r\n")}\r\n\r\n`;
  const key = RsaKey.fromPem(messy);
  const other = RsaKey.fromPem(pem);
  const plain = new TextEncoder().encode("InitConnect");
  assertEquals(other.decrypt(key.encrypt(plain)), plain);
});
