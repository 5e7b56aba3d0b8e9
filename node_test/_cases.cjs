"use strict";
// The Node tests of the built package, shared by esm.test.mjs (which loads
// the package with `import`) and cjs.test.cjs (with `require`). CI installs
// the packed dist/ into a temporary copy of this folder with npm and runs
// `node --test esm.test.mjs cjs.test.cjs` there (see .ci/run).
const test = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const net = require("node:net");

const SESSION_TIMEOUT_MS = 20_000;

/**
 * @param {object} loaded
 * @param {"esm" | "cjs"} loaded.format how the package was loaded
 * @param {Record<string, Record<string, unknown>>} loaded.entries every
 *   subpath of the package's `exports` ("." , "./codec", ...) -> its module
 * @param {string} loaded.resolved the file "opend-machine" resolved to
 * @param {(logic: unknown, options?: unknown) => any} loaded.createActor
 *   xstate's createActor, loaded the same way
 */
module.exports = function defineCases(loaded) {
  const { format, entries } = loaded;
  const root = entries["."];
  /** The first entry (the root first) that exports `name`. */
  const pick = (name) => {
    if (name in root) return root[name];
    for (const mod of Object.values(entries)) if (name in mod) return mod[name];
    return undefined;
  };
  const need = (name) => {
    const value = pick(name);
    assert.notEqual(
      value,
      undefined,
      `no entry of the package exports ${name}`,
    );
    return value;
  };

  test(`${format}: "opend-machine" resolves to the ${format} build`, () => {
    const expected = format === "esm"
      ? /\/esm\/index\.js$/
      : /\/cjs\/index\.cjs$/;
    assert.match(loaded.resolved.replaceAll("\\", "/"), expected);
    assert.ok(Object.keys(entries).length >= 1);
  });

  test(`${format}: every subpath shares the root's classes and constants`, () => {
    for (const [subpath, mod] of Object.entries(entries)) {
      assert.ok(Object.keys(mod).length > 0, `${subpath} exports nothing`);
      for (const [name, value] of Object.entries(mod)) {
        if (name in root) {
          assert.equal(root[name], value, `${subpath} ${name} is another copy`);
        }
      }
    }
  });

  test(`${format}: encodes and decodes a Notify packet (protobuf and JSON)`, () => {
    const encodePacket = need("encodePacket");
    const FrameDecoder = need("FrameDecoder");
    const ProtoId = need("ProtoId");
    const GtwEventType = need("GtwEventType");
    const encodeNotification = need("encodeNotification");
    const decodeNotification = need("decodeNotification");
    const gtwEventNotification = need("gtwEventNotification");

    const body = encodeNotification(
      gtwEventNotification(GtwEventType.KickedOut, "logged in elsewhere"),
    );
    const bytes = encodePacket({ protoId: ProtoId.Notify, serialNo: 7, body });
    assert.equal(bytes.length, 44 + body.length);
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(bytes.subarray(0, 30)), []);
    const [result] = decoder.push(bytes.subarray(30));
    assert.equal(result.ok, true);
    assert.equal(result.packet.protoId, 1003);
    assert.equal(result.packet.serialNo, 7);
    const n = decodeNotification(result.packet.body);
    assert.equal(n.kind, "gtwEvent");
    assert.equal(n.eventName, "KickedOut");
    assert.equal(n.desc, "logged in elsewhere");

    // The same through protobuf's JSON mapping (protoFmt 1).
    const decodeResponse = need("decodeResponse");
    const json = new TextEncoder().encode(
      '{"retType":0,"s2c":{"serverVer":1000,"loginUserID":"12345",' +
        '"connID":"18446744073709551615","connAESKey":"0123456789ABCDEF",' +
        '"keepAliveInterval":10}}',
    );
    const response = decodeResponse(ProtoId.InitConnect, json, 1);
    assert.equal(response.retType, 0);
    assert.equal(response.s2c.connID, "18446744073709551615");
    assert.equal(response.s2c.keepAliveInterval, 10);
  });

  test(`${format}: a corrupted body is reported, not thrown`, () => {
    const encodePacket = need("encodePacket");
    const FrameDecoder = need("FrameDecoder");
    const CodecError = need("CodecError");
    const bytes = encodePacket({
      protoId: 1004,
      serialNo: 1,
      body: new Uint8Array([8, 1]),
    });
    bytes[bytes.length - 1] ^= 0xff;
    const [result] = new FrameDecoder().push(bytes);
    assert.equal(result.ok, false);
    assert.ok(result.error instanceof CodecError);
    assert.equal(result.error.code, "SHA1_MISMATCH");
  });

  test(`${format}: the program-status machine follows decoded notifications`, () => {
    const programStatusMachine = need("programStatusMachine");
    const notificationToEvent = need("notificationToEvent");
    const encodeNotification = need("encodeNotification");
    const decodeNotification = need("decodeNotification");
    const programStatusNotification = need("programStatusNotification");
    const gtwEventNotification = need("gtwEventNotification");
    const ProgramStatusType = need("ProgramStatusType");
    const GtwEventType = need("GtwEventType");
    // Bytes -> notification -> event -> state: the seam the design names.
    const feed = (actor, notification) =>
      actor.send(
        notificationToEvent(
          decodeNotification(encodeNotification(notification)),
        ),
      );

    const actor = loaded.createActor(programStatusMachine).start();
    try {
      assert.equal(actor.getSnapshot().context.statusName, "None");
      feed(actor, programStatusNotification(ProgramStatusType.Ready));
      assert.equal(actor.getSnapshot().context.statusName, "Ready");
      assert.ok(actor.getSnapshot().hasTag("ready"));

      feed(actor, gtwEventNotification(GtwEventType.KickedOut, "elsewhere"));
      let snapshot = actor.getSnapshot();
      assert.equal(snapshot.context.statusName, "ForceLogout");
      assert.ok(!snapshot.hasTag("ready"));
      assert.equal(snapshot.context.reason.eventType, GtwEventType.KickedOut);

      feed(actor, programStatusNotification(ProgramStatusType.Ready));
      assert.ok(actor.getSnapshot().hasTag("ready"));

      feed(actor, gtwEventNotification(GtwEventType.BanLogin, "banned"));
      snapshot = actor.getSnapshot();
      assert.equal(snapshot.context.statusName, "LoginFailed");
      assert.ok(snapshot.hasTag("fatal"));

      // Fatal stays fatal, whatever OpenD says next, until RESET.
      feed(actor, programStatusNotification(ProgramStatusType.Ready));
      assert.ok(actor.getSnapshot().hasTag("fatal"));
      actor.send({ type: "RESET" });
      assert.ok(!actor.getSnapshot().hasTag("fatal"));
    } finally {
      actor.stop();
    }
  });

  test(`${format}: RSA PKCS#1 v1.5 decryption works although Node refuses it`, (t) => {
    const RsaKey = need("RsaKey");
    const generateRsaKeyPem = need("generateRsaKeyPem");
    const CodecError = need("CodecError");
    const pem = generateRsaKeyPem(1024);
    assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----/);
    const key = RsaKey.fromPem(pem);
    assert.equal(key.bits, 1024);
    assert.equal(String(key), "RsaKey { bits: 1024 }");

    const plain = crypto.randomBytes(250); // three 100-byte chunks
    const encrypted = key.encrypt(plain);
    assert.equal(encrypted.length, 3 * 128);

    // Node itself refuses PKCS#1 v1.5 private decryption (CVE-2023-46809)
    // unless started with --security-revert.
    let refused = false;
    try {
      crypto.privateDecrypt(
        { key: pem, padding: crypto.constants.RSA_PKCS1_PADDING },
        encrypted.subarray(0, 128),
      );
    } catch {
      refused = true;
    }
    t.diagnostic(
      `Node ${process.version} ${refused ? "refuses" : "allows"} ` +
        "privateDecrypt with RSA_PKCS1_PADDING",
    );
    if (process.execArgv.every((a) => !a.includes("security-revert"))) {
      const [major, minor] = process.versions.node.split(".").map(Number);
      if (major > 20 || (major === 20 && minor >= 11)) assert.ok(refused);
    }

    assert.deepEqual(Buffer.from(key.decrypt(encrypted)), plain);

    // Wrong key or tampered chunk: one typed error, no plaintext.
    const other = RsaKey.fromPem(generateRsaKeyPem(1024));
    assert.throws(
      () => other.decrypt(encrypted),
      (e) => e instanceof CodecError && e.code === "DECRYPT_FAILED",
    );
    const tampered = Uint8Array.from(encrypted);
    tampered[5] ^= 1;
    assert.throws(() => key.decrypt(tampered), CodecError);
  });

  test(`${format}: AES-CBC and FTAES_ECB bodies round-trip`, () => {
    const createAesCipher = need("createAesCipher");
    const PacketEncAlgo = need("PacketEncAlgo");
    const plain = new TextEncoder().encode("hello, OpenD");
    for (const algo of [PacketEncAlgo.AES_CBC, PacketEncAlgo.FTAES_ECB]) {
      const cipher = createAesCipher({
        algo,
        key: "0123456789abcdef",
        iv: "fedcba9876543210",
      });
      const body = cipher.encrypt(plain);
      assert.equal(body.length, algo === PacketEncAlgo.FTAES_ECB ? 32 : 16);
      assert.deepEqual(cipher.decrypt(body), plain);
    }
  });

  const startSimulator = pick("startSimulator");
  test(
    `${format}: RSA-encrypted InitConnect, AES-CBC and a Notify push against the simulator over loopback`,
    {
      timeout: SESSION_TIMEOUT_MS,
      skip: startSimulator === undefined &&
        "the package exports no startSimulator (sim/ is not exported by mod.ts or deno.json exports)",
    },
    async () => {
      const pem = need("generateRsaKeyPem")(1024);
      const sim = await startSimulator({ rsaPrivateKey: pem, opsPort: false });
      const conn = new RawConnection(pick, pem);
      try {
        await conn.open(sim.address.host, sim.address.port);
        const s2c = await conn.initConnect();
        assert.equal(typeof s2c.connID, "string");
        assert.equal(s2c.connAESKey.length, 16);
        assert.equal(typeof s2c.aesCBCiv, "string");
        const seen = await sim.waitFor(
          "initConnect",
          (e) => e.connId === s2c.connID,
        );
        assert.equal(seen.encryption, "AES_CBC");

        const state = await conn.request(1002, { userID: s2c.loginUserID });
        assert.equal(state.retType, 0);
        assert.equal(state.s2c.programStatus.type, 10); // Ready

        // A push, AES-CBC encrypted, decoded and fed to the machine.
        const actor = loaded.createActor(need("programStatusMachine")).start();
        try {
          actor.send(
            need("notificationToEvent")(
              need("toSystemNotification")({
                type: 2,
                programStatus: { programStatus: state.s2c.programStatus },
              }),
            ),
          );
          assert.ok(actor.getSnapshot().hasTag("ready"));
          const pushed = conn.nextPush(1003);
          sim.pushGtwEvent(7, "logged in on another device");
          const notification = need("decodeNotification")((await pushed).body);
          assert.equal(notification.eventName, "KickedOut");
          actor.send(need("notificationToEvent")(notification));
          assert.equal(actor.getSnapshot().context.statusName, "ForceLogout");
        } finally {
          actor.stop();
        }
      } finally {
        conn.close();
        await sim.close();
      }
    },
  );

  const createOpenDClient = pick("createOpenDClient");
  test(
    `${format}: a client-to-simulator session with an RSA-encrypted InitConnect`,
    {
      timeout: SESSION_TIMEOUT_MS,
      skip: (startSimulator === undefined || createOpenDClient === undefined) &&
        "the package does not export both startSimulator and createOpenDClient " +
          "(client/ and sim/ are not exported by mod.ts or deno.json exports)",
    },
    async () => {
      const pem = need("generateRsaKeyPem")(1024);
      const sim = await startSimulator({ rsaPrivateKey: pem, opsPort: false });
      let client;
      try {
        const since = sim.mark();
        client = createOpenDClient({
          host: sim.address.host,
          port: sim.address.port,
          rsaPrivateKey: pem,
          packetEncAlgo: "aes_cbc",
        });
        await client.whenReady(10_000);
        const init = await sim.waitFor("initConnect", undefined, {
          since,
          timeoutMs: 10_000,
        });
        assert.equal(init.encryption, "AES_CBC");
        assert.equal(client.describe().gateway, "Ready");
        const state = await client.request(1002, { userID: "0" });
        assert.equal(state.programStatus.type, 10);
        assert.equal(state.connID, init.connId);
      } finally {
        if (client !== undefined) await client.close();
        await sim.close();
      }
    },
  );
};

/**
 * A minimal OpenD API client built from the codec alone: one TCP
 * connection, RSA for InitConnect, then the negotiated AES.
 */
class RawConnection {
  #pick;
  #socket;
  #crypto;
  #decoder;
  #serialNo = 1;
  #waiting = new Map(); // "protoId:serialNo" or "push:protoId" -> resolve
  #failed;

  constructor(pick, pem) {
    this.#pick = pick;
    const PacketCrypto = pick("PacketCrypto");
    this.#crypto = new PacketCrypto({ rsa: pick("RsaKey").fromPem(pem) });
    this.#decoder = new (pick("FrameDecoder"))({ crypto: this.#crypto });
  }

  open(host, port) {
    return new Promise((resolve, reject) => {
      this.#socket = net.connect({ host, port }, resolve);
      this.#socket.once("error", reject);
      this.#socket.on("data", (chunk) => {
        // pushEach: a key set in the callback applies to the next packet.
        this.#decoder.pushEach(new Uint8Array(chunk), (r) => this.#onResult(r));
      });
      this.#socket.on(
        "close",
        () => this.#fail(new Error("connection closed")),
      );
    });
  }

  #onResult(result) {
    if (!result.ok) return this.#fail(result.error);
    const { protoId, serialNo } = result.packet;
    const key = this.#waiting.has(`push:${protoId}`)
      ? `push:${protoId}`
      : `${protoId}:${serialNo}`;
    const resolve = this.#waiting.get(key);
    this.#waiting.delete(key);
    if (protoId === 1001 && resolve !== undefined) {
      const response = this.#pick("decodeResponse")(1001, result.packet.body);
      if (response.retType === 0) {
        this.#crypto.setAes(
          this.#pick("createAesCipher")({
            algo: this.#pick("PacketEncAlgo").AES_CBC,
            key: response.s2c.connAESKey,
            iv: response.s2c.aesCBCiv,
          }),
        );
      }
      return resolve(response);
    }
    resolve?.(result.packet);
  }

  #fail(error) {
    this.#failed ??= error;
    for (const resolve of this.#waiting.values()) {
      resolve(Promise.reject(error));
    }
    this.#waiting.clear();
  }

  #send(protoId, body) {
    if (this.#failed) return Promise.reject(this.#failed);
    const serialNo = this.#serialNo++;
    const reply = new Promise((resolve) => {
      this.#waiting.set(`${protoId}:${serialNo}`, resolve);
    });
    this.#socket.write(
      this.#pick("encodePacket")({ protoId, serialNo, body }, this.#crypto),
    );
    return reply;
  }

  async initConnect() {
    const body = this.#pick("encodeRequest")(1001, {
      clientVer: 300,
      clientID: "node-test",
      recvNotify: true,
      packetEncAlgo: this.#pick("PacketEncAlgo").AES_CBC,
      pushProtoFmt: 0,
      programmingLanguage: "JavaScript",
    });
    const response = await this.#send(1001, body);
    assert.equal(response.retType, 0, response.retMsg);
    return response.s2c;
  }

  async request(protoId, c2s) {
    const packet = await this.#send(
      protoId,
      this.#pick("encodeRequest")(protoId, c2s),
    );
    return this.#pick("decodeResponse")(protoId, packet.body);
  }

  nextPush(protoId) {
    return new Promise((resolve) =>
      this.#waiting.set(`push:${protoId}`, resolve)
    );
  }

  close() {
    this.#socket?.destroy();
  }
}
