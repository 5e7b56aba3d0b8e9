/**
 * Writes the example streams in `examples/`: a session as the official
 * Python SDK and OpenD exchange it, in plaintext and RSA + AES-CBC encrypted.
 *
 * `deno run --allow-read --allow-write scripts/make_examples.ts`
 * @module
 */
import {
  createAesCipher,
  encodeNotification,
  encodePacket,
  encodeRequest,
  encodeResponse,
  gtwEventNotification,
  GtwEventType,
  PacketCrypto,
  PacketEncAlgo,
  programStatusNotification,
  ProgramStatusType,
  ProtoFmt,
  ProtoId,
  RsaKey,
} from "../codec/mod.ts";

const SERVER_TIME = 1764000000;
/** The AES key and IV the example sessions use (demo values, not secrets). */
export const EXAMPLE_AES = {
  key: "3F9A1C2B7D4E6A80",
  iv: "B5C7E9A1D3F50826",
} as const;
const AES_KEY = EXAMPLE_AES.key;
const AES_IV = EXAMPLE_AES.iv;

/**
 * Builds one session's bytes. `rsaPem` turns on encryption like the SDK's
 * `enable_proto_encrypt`: RSA for InitConnect, then AES-CBC, or FTAES_ECB when
 * `cbc` is false (OpenD then sends no `aesCBCiv`).
 */
export function exampleSession(
  rsaPem?: string,
  { cbc = true }: { cbc?: boolean } = {},
): Uint8Array {
  const crypto = new PacketCrypto(
    rsaPem ? { rsa: RsaKey.fromPem(rsaPem) } : {},
  );
  const packets: Uint8Array[] = [];
  const send = (
    protoId: number,
    serialNo: number,
    body: Uint8Array,
    protoFmt: number = ProtoFmt.Protobuf,
  ) =>
    packets.push(encodePacket({ protoId, serialNo, body, protoFmt }, crypto));
  let serial = 4242;

  const init = ++serial;
  send(
    ProtoId.InitConnect,
    init,
    encodeRequest(ProtoId.InitConnect, {
      clientVer: 300,
      clientID: "PyNormal",
      recvNotify: true,
      packetEncAlgo: rsaPem
        ? (cbc ? PacketEncAlgo.AES_CBC : PacketEncAlgo.FTAES_ECB)
        : PacketEncAlgo.None,
      pushProtoFmt: ProtoFmt.Protobuf,
      programmingLanguage: "Python",
    }),
  );
  send(
    ProtoId.InitConnect,
    init,
    encodeResponse(ProtoId.InitConnect, {
      retType: 0,
      retMsg: "",
      s2c: {
        serverVer: 904,
        loginUserID: "12345678",
        connID: "7188300283432012345",
        connAESKey: AES_KEY,
        keepAliveInterval: 10,
        ...(rsaPem && cbc ? { aesCBCiv: AES_IV } : {}),
        userAttribution: 1,
      },
    }),
  );
  if (rsaPem) {
    crypto.setAes(
      cbc
        ? createAesCipher({
          algo: PacketEncAlgo.AES_CBC,
          key: AES_KEY,
          iv: AES_IV,
        })
        : createAesCipher({ algo: PacketEncAlgo.FTAES_ECB, key: AES_KEY }),
    );
  }

  const state = ++serial;
  send(
    ProtoId.GetGlobalState,
    state,
    encodeRequest(ProtoId.GetGlobalState, { userID: "0" }),
  );
  send(
    ProtoId.GetGlobalState,
    state,
    encodeResponse(ProtoId.GetGlobalState, {
      retType: 0,
      s2c: {
        marketHK: 6,
        marketUS: 11,
        marketSH: 6,
        marketSZ: 6,
        marketHKFuture: 15,
        qotLogined: true,
        trdLogined: true,
        serverVer: 904,
        serverBuildNo: 4003,
        time: SERVER_TIME,
        programStatus: { type: ProgramStatusType.Ready },
        connID: "7188300283432012345",
      },
    }),
  );
  const keepAlive = ++serial;
  send(
    ProtoId.KeepAlive,
    keepAlive,
    encodeRequest(ProtoId.KeepAlive, { time: SERVER_TIME + 8 }),
  );
  send(
    ProtoId.KeepAlive,
    keepAlive,
    encodeResponse(ProtoId.KeepAlive, {
      retType: 0,
      s2c: { time: SERVER_TIME + 8 },
    }),
  );
  // A quote push (Qot_UpdateBasicQot) the decoder does not know: carried as raw bytes.
  send(3005, 0, new Uint8Array([0x08, 0x00, 0x22, 0x03, 0x0a, 0x01, 0x31]));
  send(
    ProtoId.Notify,
    0,
    encodeNotification(
      gtwEventNotification(
        GtwEventType.KickedOut,
        "Account logged in on another device",
      ),
    ),
  );
  send(
    ProtoId.Notify,
    0,
    encodeNotification(
      programStatusNotification(ProgramStatusType.ForceLogout, "kicked out"),
    ),
  );
  // The same Notify in JSON, as a connection with pushProtoFmt = Json gets it.
  send(
    ProtoId.Notify,
    0,
    encodeNotification(
      gtwEventNotification(
        GtwEventType.NeedPhoneVerifyCode,
        "phone code needed",
      ),
      ProtoFmt.Json,
    ),
    ProtoFmt.Json,
  );
  const verify = ++serial;
  send(
    ProtoId.Verification,
    verify,
    encodeRequest(ProtoId.Verification, { type: 2, op: 2, code: "123456" }),
  );
  send(
    ProtoId.Verification,
    verify,
    encodeResponse(ProtoId.Verification, { retType: 0, s2c: {} }),
  );

  const total = packets.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of packets) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

if (import.meta.main) {
  const dir = new URL("../examples/", import.meta.url);
  const pem = await Deno.readTextFile(new URL("demo_rsa_key.pem", dir));
  await Deno.writeFile(new URL("session.bin", dir), exampleSession());
  await Deno.writeFile(
    new URL("session_encrypted.bin", dir),
    exampleSession(pem),
  );
  console.log("wrote examples/session.bin and examples/session_encrypted.bin");
}
