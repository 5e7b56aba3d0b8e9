// The same package seen from CommonJS (`require` condition: the .d.cts
// declarations). Type-checked by CI, never run.
import openD = require("opend-machine");
import { FrameDecoder, type FrameResult } from "opend-machine";
import { programStatusMachine } from "opend-machine/machines";
import { createActor } from "xstate";

const packet: Uint8Array = openD.encodePacket({
  protoId: openD.ProtoId.KeepAlive,
  serialNo: 1,
  body: new Uint8Array([8, 1]),
});
const results: FrameResult[] = new FrameDecoder().push(packet);
console.log(results.length);
const error: openD.CodecError | undefined = results[0]?.ok === false
  ? results[0].error
  : undefined;
console.log(error?.code);
createActor(programStatusMachine, { input: {} }).start().stop();
// @ts-expect-error: no such export
openD.notAnExport();
