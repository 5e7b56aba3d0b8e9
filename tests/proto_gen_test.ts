import { assert, assertEquals, assertRejects } from "@std/assert";
import { pathToFileURL } from "node:url";
import protobuf from "protobufjs";
import {
  DESCRIPTOR_FILE,
  generateDescriptorModule,
  main,
  PROTO_DIR,
  PROTO_FILES,
} from "../scripts/gen_proto.ts";
import { descriptor } from "../codec/_descriptor.ts";

Deno.test("codec/_descriptor.ts is what codec/proto/*.proto generate (run `deno task gen`)", async () => {
  const wanted = await generateDescriptorModule();
  const current = await Deno.readTextFile(DESCRIPTOR_FILE);
  assert(
    current === wanted,
    "codec/_descriptor.ts is stale: run `deno task gen`",
  );
});

Deno.test("generation is deterministic", async () => {
  assertEquals(
    await generateDescriptorModule(),
    await generateDescriptorModule(),
  );
});

Deno.test("`gen_proto.ts --check` as a subprocess exits 0 on the checked-in module", async () => {
  const script = new URL("../scripts/gen_proto.ts", import.meta.url);
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", script.href, "--check"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
});

Deno.test("--check reports a stale module without writing; a plain run rewrites it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = pathToFileURL(`${dir}/_descriptor.ts`);
    await Deno.writeTextFile(file, "// stale\n");
    assertEquals(await main(["--check"], { descriptorFile: file }), 1);
    assertEquals(await Deno.readTextFile(file), "// stale\n");
    assertEquals(await main([], { descriptorFile: file }), 0);
    assertEquals(
      await Deno.readTextFile(file),
      await generateDescriptorModule(),
    );
    assertEquals(await main(["--check"], { descriptorFile: file }), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function withEditedProtos(
  edit: (name: string, text: string) => string,
  run: (dir: URL) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of PROTO_FILES) {
      const text = await Deno.readTextFile(new URL(name, PROTO_DIR));
      await Deno.writeTextFile(`${dir}/${name}`, edit(name, text));
    }
    await run(pathToFileURL(`${dir}/`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the generator refuses constructs codec/messages.ts does not convert", async () => {
  for (
    const field of [
      "repeated int32 extra = 9;",
      "optional bytes extra = 9;",
      "optional float extra = 9;",
      "optional sint64 extra = 9;",
      "map<string, int32> extra = 9;",
    ]
  ) {
    await withEditedProtos(
      (name, text) =>
        name === "Verification.proto"
          ? text.replace(
            "optional string code = 3;",
            `optional string code = 3; ${field}`,
          )
          : text,
      async (dir) => {
        await assertRejects(
          () => generateDescriptorModule(dir),
          Error,
          "not supported",
        );
      },
    );
  }
});

Deno.test("the generator refuses unresolved references", async () => {
  await withEditedProtos(
    (name, text) =>
      name === "Notify.proto"
        ? text.replace(
          "optional UsedQuota usedQuota",
          "optional Missing usedQuota",
        )
        : text,
    async (dir) => {
      await assertRejects(() => generateDescriptorModule(dir));
    },
  );
});

Deno.test("the descriptor loads with protobufjs and has every message and enum, with open enums", () => {
  const root = protobuf.Root.fromJSON(descriptor);
  root.resolveAll();
  for (
    const pkg of ["InitConnect", "GetGlobalState", "KeepAlive", "Verification"]
  ) {
    for (const name of ["C2S", "S2C", "Request", "Response"]) {
      root.lookupType(`${pkg}.${name}`);
    }
  }
  for (
    const name of [
      "Notify.S2C",
      "Notify.Response",
      "Notify.GtwEvent",
      "Notify.QotRight",
      "Common.PacketID",
      "Common.ProgramStatus",
    ]
  ) root.lookupType(name);
  const enums = [
    "Common.RetType",
    "Common.PacketEncAlgo",
    "Common.ProtoFmt",
    "Common.UserAttribution",
    "Common.ProgramStatusType",
    "Notify.NotifyType",
    "Notify.GtwEventType",
    "Verification.VerificationType",
    "Verification.VerificationOp",
  ];
  for (const name of enums) {
    const e = root.lookupEnum(name);
    assertEquals(e.options?.features?.enum_type, "OPEN", name);
  }
  assertEquals(root.lookupEnum("Common.RetType").values.RetType_Invalid, -500);
  assertEquals(
    root.lookupEnum("Notify.GtwEventType").values.GtwEventType_EnableDeviceLock,
    15,
  );
  assertEquals(
    root.lookupEnum("Common.ProgramStatusType").values
      .ProgramStatusType_DisclaimerPullFailed,
    12,
  );
  const response = root.lookupType("InitConnect.Response");
  assertEquals(response.fields.retType.required, true);
  assertEquals(response.fields.retType.options?.default, -400);
});
