import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import { createHash } from "node:crypto";
import {
  decodeNotification,
  GtwEventType,
  ProgramStatusType,
  ProtoId,
  type SystemNotification,
  VerificationOp,
  VerificationType,
} from "../codec/mod.ts";
import {
  type OpenDSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../sim/mod.ts";
import { delay, OpsClient, RawClient } from "./_sim_helpers.ts";

async function online(sim: OpenDSimulator): Promise<RawClient> {
  const client = await RawClient.connect(sim.address.port);
  await client.initConnect();
  return client;
}

async function nextNotification(
  client: RawClient,
): Promise<SystemNotification> {
  const p = await client.next((p) => p.protoId === ProtoId.Notify);
  return decodeNotification(p.body);
}

async function statusPushes(
  client: RawClient,
  count: number,
): Promise<number[]> {
  const out: number[] = [];
  while (out.length < count) {
    const n = await nextNotification(client);
    if (n.kind === "programStatus") out.push(n.status);
  }
  return out;
}

const FAST: SimulatorOptions = { loginDelayMs: 30 };

Deno.test("sim: Verification phone request is rate limited (one per window)", async () => {
  await using sim = await startSimulator({
    ...FAST,
    opsPort: false,
    programStatus: ProgramStatusType.NeedPhoneVerifyCode,
    rateLimits: { phoneCodeRequest: { max: 1, windowMs: 300 } },
  });
  const client = await online(sim);
  try {
    const req = { type: VerificationType.Phone, op: VerificationOp.Request };
    const first = await client.request(ProtoId.Verification, req);
    assertEquals(first.retType, 0);
    const second = await client.request(ProtoId.Verification, req);
    assertEquals(second.retType, -1);
    assertMatch(second.retMsg ?? "", /^too frequent, try again in 1 s$/);
    await delay(320);
    assertEquals((await client.request(ProtoId.Verification, req)).retType, 0);
    const verdicts = sim.events.filter((e) =>
      e.type === "verificationRequested"
    );
    assertEquals(
      verdicts.map((e) => e.type === "verificationRequested" && e.ok),
      [true, false, true],
    );
  } finally {
    await client.close();
  }
});

Deno.test("sim: Verification when no code is needed fails and costs nothing", async () => {
  await using sim = await startSimulator({ ...FAST, opsPort: false });
  const client = await online(sim);
  try {
    const r = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.Request,
    });
    assertEquals(r.retType, -1);
    assertEquals(r.retMsg, "no phone verification code is needed now");
    const bad = await client.request(ProtoId.Verification, {
      type: 0,
      op: VerificationOp.Request,
    });
    assertEquals(bad.retMsg, "unknown verification type 0");
    sim.requireVerification("phone");
    const ok = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.Request,
    });
    assertEquals(ok.retType, 0);
  } finally {
    await client.close();
  }
});

Deno.test("sim: wrong phone code keeps the status; the right one goes Loging -> Ready with pushes", async () => {
  await using sim = await startSimulator({
    ...FAST,
    opsPort: false,
    phoneCode: "246810",
  });
  const client = await online(sim);
  try {
    sim.requireVerification("phone", "SMS needed");
    const event = await nextNotification(client);
    assert(event.kind === "gtwEvent");
    assertEquals(event.eventType, GtwEventType.NeedPhoneVerifyCode);
    assertEquals(await statusPushes(client, 1), [
      ProgramStatusType.NeedPhoneVerifyCode,
    ]);

    const wrong = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.InputAndLogin,
      code: "987654",
    });
    assertEquals(wrong.retType, -1);
    assertEquals(wrong.retMsg, "verification code error");
    assertEquals(sim.programStatus.type, ProgramStatusType.NeedPhoneVerifyCode);
    const state = await client.request(ProtoId.GetGlobalState, { userID: "1" });
    assertEquals(
      state.s2c?.programStatus?.type,
      ProgramStatusType.NeedPhoneVerifyCode,
    );
    assertEquals(state.s2c?.qotLogined, false);

    const right = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.InputAndLogin,
      code: "246810",
    });
    assertEquals(right.retType, 0);
    assertEquals(await statusPushes(client, 2), [
      ProgramStatusType.Loging,
      ProgramStatusType.Ready,
    ]);
    await sim.waitFor(
      "codeRejected",
      (e) => e.reason === "verification code error",
    );
    await sim.waitFor(
      "codeAccepted",
      (e) => e.via === "api" && e.codeType === "phone",
    );
    // The code a client typed is never recorded.
    assert(!JSON.stringify(sim.events).includes("987654"));
  } finally {
    await client.close();
  }
});

Deno.test("sim: picture code flow over the API", async () => {
  await using sim = await startSimulator({
    ...FAST,
    opsPort: false,
    pictureCode: "ab12",
  });
  const client = await online(sim);
  try {
    sim.requireVerification("picture");
    const refresh = await client.request(ProtoId.Verification, {
      type: VerificationType.Picture,
      op: VerificationOp.Request,
    });
    assertEquals(refresh.retType, 0);
    const phoneInstead = await client.request(ProtoId.Verification, {
      type: VerificationType.Phone,
      op: VerificationOp.InputAndLogin,
      code: "ab12",
    });
    assertEquals(
      phoneInstead.retMsg,
      "no phone verification code is needed now",
    );
    const ok = await client.request(ProtoId.Verification, {
      type: VerificationType.Picture,
      op: VerificationOp.InputAndLogin,
      code: "ab12",
    });
    assertEquals(ok.retType, 0);
    await sim.waitFor(
      "statusChanged",
      (e) => e.status === ProgramStatusType.Ready,
    );
  } finally {
    await client.close();
  }
});

Deno.test("sim: ops port verification commands, CRLF or LF", async () => {
  await using sim = await startSimulator({
    ...FAST,
    phoneCode: "123456",
    pictureCode: "9876",
  });
  const ops = await OpsClient.connect(sim.address.opsPort!);
  const client = await online(sim);
  try {
    assertEquals(
      await ops.command("req_phone_verify_code"),
      "req_phone_verify_code: FAILED, no phone verification code is needed now",
    );
    sim.requireVerification("phone");
    assertEquals(
      await ops.command("req_phone_verify_code", "\n"),
      "req_phone_verify_code: OK, verification code sent",
    );
    assertMatch(
      await ops.command("req_phone_verify_code"),
      /^req_phone_verify_code: FAILED, too frequent, try again in \d+ s$/,
    );
    assertEquals(
      await ops.command("input_phone_verify_code"),
      "input_phone_verify_code: FAILED, missing -code",
    );
    assertEquals(
      await ops.command("input_phone_verify_code -code=111111"),
      "input_phone_verify_code: FAILED, verification code error",
    );
    assertEquals(
      await ops.command("input_phone_verify_code -code=123456", "\n"),
      "input_phone_verify_code: OK, logging in",
    );
    await sim.waitFor(
      "statusChanged",
      (e) => e.status === ProgramStatusType.Ready,
    );

    sim.requireVerification("picture");
    assertEquals(
      await ops.command("req_pic_verify_code"),
      "req_pic_verify_code: OK, picture verification code refreshed",
    );
    assertEquals(
      await ops.command("input_pic_verify_code -code=9876"),
      "input_pic_verify_code: OK, logging in",
    );
    await sim.waitFor(
      "statusChanged",
      (e) => e.status === ProgramStatusType.Ready,
      { since: sim.mark() - 1 },
    );
    await sim.waitFor(
      "codeAccepted",
      (e) => e.via === "ops" && e.codeType === "picture",
    );

    // The client saw every status on the way.
    const statuses: number[] = [];
    for (const p of client.received) {
      if (p.protoId !== ProtoId.Notify) continue;
      const n = decodeNotification(p.body);
      if (n.kind === "programStatus") statuses.push(n.status);
    }
    await delay(10);
    assertEquals(statuses.slice(0, 3), [
      ProgramStatusType.NeedPhoneVerifyCode,
      ProgramStatusType.Loging,
      ProgramStatusType.Ready,
    ]);
    const commands = sim.events.filter((e) => e.type === "opsCommand");
    assert(commands.length >= 8);
  } finally {
    await ops.close();
    await client.close();
  }
});

Deno.test("sim: relogin with a good, a bad and an MD5 password; never recorded", async () => {
  const secret = "s3cret pass";
  await using sim = await startSimulator({ ...FAST, loginPassword: secret });
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    assertEquals(
      await ops.command("relogin -login_pwd=wrong"),
      "relogin: FAILED, password error",
    );
    assertEquals(sim.programStatus, {
      type: ProgramStatusType.LoginFailed,
      strExtDesc: "password error",
    });
    assertEquals(
      await ops.command(`relogin -login_pwd=${secret}`),
      "relogin: OK, logging in",
    );
    await sim.waitFor(
      "statusChanged",
      (e) => e.status === ProgramStatusType.Ready,
    );
    const md5 = createHash("md5").update(secret).digest("hex").toUpperCase();
    assertEquals(
      await ops.command(`relogin -login_pwd_md5=${md5}`),
      "relogin: OK, logging in",
    );
    assertEquals(await ops.command("relogin"), "relogin: OK, logging in");
    const relogins = sim.events.filter((e) => e.type === "relogin");
    assertEquals(
      relogins.map((e) => e.type === "relogin" && `${e.ok}/${e.password}`),
      ["false/plain", "true/plain", "true/md5", "true/none"],
    );
    const recorded = JSON.stringify(sim.events);
    assert(!recorded.includes("s3cret"));
    assert(!recorded.toLowerCase().includes(md5.toLowerCase()));
    assertStringIncludes(recorded, "[redacted]");
    assert(!String(sim).includes("s3cret"));
    assert(!Deno.inspect(sim).includes("s3cret"));
  } finally {
    await ops.close();
  }
});

Deno.test("sim: relogin is rate limited (10 an hour by default)", async () => {
  await using sim = await startSimulator({ ...FAST, loginDelayMs: 1 });
  const ops = await OpsClient.connect(sim.address.opsPort!);
  try {
    for (let i = 0; i < 10; i++) {
      assertEquals(await ops.command("relogin"), "relogin: OK, logging in");
    }
    assertMatch(
      await ops.command("relogin"),
      /^relogin: FAILED, too frequent, try again in (3[56]\d\d) s$/,
    );
  } finally {
    await ops.close();
  }
});

Deno.test("sim: ops port exit is refused and recorded; other commands; long lines close", async () => {
  await using sim = await startSimulator(FAST);
  const ops = await OpsClient.connect(sim.address.opsPort!);
  const client = await online(sim);
  try {
    assertEquals(
      await ops.command("exit"),
      "exit: REFUSED, this simulator does not stop on request",
    );
    await sim.waitFor("opsExitRefused");
    assertEquals(
      await ops.command("frobnicate -x=1"),
      "frobnicate: FAILED, unknown command",
    );
    assertStringIncludes(
      await ops.command("help"),
      "help: OK, commands: req_phone_verify_code",
    );
    assertEquals(
      await ops.command("request_highest_quote_right"),
      "request_highest_quote_right: OK, highest quote right requested",
    );
    const rights = await nextNotification(client);
    assertEquals(rights.kind, "qotRight");

    assertEquals(
      await ops.command("close_api_conn"),
      "close_api_conn: FAILED, missing -conn_id",
    );
    assertEquals(
      await ops.command("close_api_conn -conn_id=42"),
      "close_api_conn: FAILED, no API connection 42",
    );
    const connId = sim.connections[0].connId!;
    assertEquals(
      await ops.command(`close_api_conn -conn_id=${connId}`),
      `close_api_conn: OK, closed connection ${connId}`,
    );
    await client.waitClosed();

    // Blank lines get no reply; telnet negotiation bytes are ignored.
    ops.socket.write("\r\n\r\n");
    ops.socket.write(Uint8Array.of(0xff, 0xfd, 0x01, 0xff, 0xfb, 0x03));
    assertEquals(
      await ops.command("exit"),
      "exit: REFUSED, this simulator does not stop on request",
    );

    ops.socket.write("x".repeat(5000));
    await ops.closed;
    await sim.waitFor(
      "opsConnectionClosed",
      (e) => e.reason === "line too long",
    );
  } finally {
    await ops.close();
    await client.close();
  }
});
