// Type-checked by CI with `tsc -p tsconfig.json` against the bundled
// declarations of the installed package (ESM resolution: module NodeNext in
// a "type": "module" package). Never run: it only has to compile.
import { createActor, type SnapshotFrom } from "xstate";
import {
  CodecError,
  decodeNotification,
  decodeResponse,
  encodeNotification,
  encodePacket,
  FrameDecoder,
  type FrameResult,
  generateRsaKeyPem,
  gtwEventNotification,
  GtwEventType,
  type InitConnectS2C,
  PacketCrypto,
  ProtoId,
  RsaKey,
  type SystemNotification,
} from "opend-machine";
import * as codec from "opend-machine/codec";
import {
  definePolicy,
  notificationToEvent,
  type Policy,
  programStatusMachine,
} from "opend-machine/machines";

const body: Uint8Array = encodeNotification(
  gtwEventNotification(GtwEventType.KickedOut, "logged in elsewhere"),
);
const crypto = new PacketCrypto({ rsa: RsaKey.fromPem(generateRsaKeyPem()) });
const bytes: Uint8Array = encodePacket(
  { protoId: ProtoId.Notify, serialNo: 1, body },
  crypto,
);
const results: FrameResult[] = new FrameDecoder({ crypto }).push(bytes);
for (const result of results) {
  if (result.ok) {
    const n: SystemNotification = decodeNotification(result.packet.body);
    if (n.kind === "gtwEvent") {
      const name: string | undefined = n.eventName;
      console.log(name, n.desc);
    }
  } else {
    const error: CodecError = result.error;
    const code: string = error.code;
    console.log(code);
  }
}

// One class, whichever entry it comes from.
const key: codec.RsaKey = RsaKey.fromPem(codec.generateRsaKeyPem(2048));
const bits: number = key.bits;
console.log(bits);

const s2c: InitConnectS2C | undefined =
  decodeResponse(ProtoId.InitConnect, body).s2c;
console.log(s2c?.connAESKey);

const policy: Policy = definePolicy({});
const actor = createActor(programStatusMachine, { input: { policy } }).start();
actor.send(notificationToEvent(decodeNotification(body)));
actor.send({ type: "GTW_EVENT", eventType: GtwEventType.KickedOut, desc: "" });
const snapshot: SnapshotFrom<typeof programStatusMachine> = actor.getSnapshot();
const ready: boolean = snapshot.hasTag("ready");
const statusName: string = snapshot.context.statusName;
console.log(ready, statusName);

// The declarations are precise, not `any`:
// @ts-expect-error: not an event the machine accepts
actor.send({ type: "NOT_AN_EVENT" });
// @ts-expect-error: protoId must be a number
encodePacket({ protoId: "1003", serialNo: 1, body });
// @ts-expect-error: not a tag of the machine
snapshot.hasTag("no-such-tag");

// The operations surface: the handler over a client, for node:http.
import { createServer } from "node:http";
import { createOpenDClient } from "opend-machine/client";
import {
  type Alert,
  type ConsoleState,
  createServeHandler,
  toNodeListener,
  verifyWebhookSignature,
} from "opend-machine/serve";
const client = createOpenDClient({ port: 11111, autoStart: false });
const handler = createServeHandler(client, {
  token: "t",
  webhooks: { urls: ["http://127.0.0.1:9/hook"], secret: "s" },
});
createServer(toNodeListener(handler));
const state: ConsoleState = handler.state;
const gateway: string = state.summary.gateway;
const response: Promise<Response> = handler.fetch(new Request("http://x/readyz"));
const signed: boolean = verifyWebhookSignature("s", "{}", null);
const alertType: Alert["type"] = "needsCode";
console.log(gateway, response, signed, alertType);
// @ts-expect-error: not an alert type
const notAlert: Alert["type"] = "ready-ish";
console.log(notAlert);

// Diagrams of any machine, from their own entry.
import { type DiagramOptions, toDot, toMermaid } from "opend-machine/viz";
const drawing: DiagramOptions = { direction: "LR", collapse: ["stopped"] };
const mermaid: string = toMermaid(programStatusMachine, drawing);
const dot: string = toDot(programStatusMachine);
console.log(mermaid.length, dot.length);
// @ts-expect-error: not a direction
toDot(programStatusMachine, { direction: "diagonal" });
