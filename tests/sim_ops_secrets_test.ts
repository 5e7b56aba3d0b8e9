/**
 * Verification codes and passwords typed on the simulator's operations port
 * never reach its events or its log lines: they say a code was given, never
 * which.
 */
import { assert, assertEquals } from "@std/assert";
import { ProgramStatusType } from "../codec/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import { OpsClient } from "./_sim_helpers.ts";

Deno.test("sim: codes typed on the ops port are never logged nor recorded, right or wrong", async () => {
  const lines: string[] = [];
  await using sim = await startSimulator({
    phoneCode: "918273",
    pictureCode: "6543",
    loginDelayMs: 1,
    loginPassword: "pa55word",
    log: (line) => lines.push(line),
  });
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    sim.requireVerification("phone");
    await ops.command("input_phone_verify_code -code=111111");
    await ops.command("input_phone_verify_code 222222");
    await ops.command("333333");
    assertEquals(
      await ops.command("input_phone_verify_code -code=918273"),
      "input_phone_verify_code: OK, logging in",
    );
    await sim.waitFor(
      "statusChanged",
      (e) => e.status === ProgramStatusType.Ready,
    );
    sim.requireVerification("picture");
    assertEquals(
      await ops.command("input_pic_verify_code -code=6543"),
      "input_pic_verify_code: OK, logging in",
    );
    await ops.command("relogin pa55word");
    await sim.waitFor("codeAccepted", (e) => e.codeType === "picture");
  } finally {
    await ops.close();
  }
  const recorded = JSON.stringify(sim.events) + lines.join("\n");
  for (
    const secret of ["918273", "6543", "111111", "222222", "333333", "pa55word"]
  ) {
    assert(!recorded.includes(secret), `${secret} leaked`);
  }
  const logged = lines.filter((l) => l.includes("input_phone_verify_code"));
  assert(
    logged.some((l) => l.endsWith("input_phone_verify_code -code=[redacted]")),
  );
  assert(
    logged.some((l) => l.endsWith("input_phone_verify_code -_=[redacted]")),
  );
  assert(
    lines.some((l) => l.endsWith("command: [redacted]")),
    "a bare code line",
  );
  const codes = sim.events.filter((e) => e.type === "opsCommand").map((e) =>
    e.type === "opsCommand" && e.args
  );
  assert(
    codes.every((args) =>
      !args || Object.values(args).every((v) => v === "[redacted]")
    ),
  );
});
