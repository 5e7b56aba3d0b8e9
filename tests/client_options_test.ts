/**
 * Client option defaults that depend on the machine: the picture code's
 * path defaults to where OpenD saves it, and never costs a permission prompt
 * or an exception when the home directory may not be read.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { homedir, platform } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { CodeProviderInput } from "../machines/mod.ts";
import { ProgramStatusType } from "../codec/mod.ts";
import { clientFor, nextEvent, startSim } from "./_client_helpers.ts";

/** OpenD's picture path on this machine, as DESIGN.md gives it. */
function openDPicturePath(): string {
  return platform() === "win32"
    ? join(
      process.env.APPDATA ?? "",
      "com.futunn.FutuOpenD",
      "F3CNN",
      "PicVerifyCode.png",
    )
    : join(homedir(), ".com.futunn.FutuOpenD", "F3CNN", "PicVerifyCode.png");
}

async function pictureCodeAsked(
  picturePath?: string,
): Promise<{ asked: CodeProviderInput[]; announced: string | undefined }> {
  await using sim = await startSim({ pictureCode: "ab12" });
  const asked: CodeProviderInput[] = [];
  await using client = clientFor(sim, {
    ...(picturePath === undefined ? {} : { picturePath }),
    codeProvider: ({ signal: _signal, ...input }) => {
      asked.push(input);
      return "ab12";
    },
  });
  await client.whenReady(5_000);
  const needsCode = nextEvent(client, "needsCode");
  const readyAgain = nextEvent(client, "ready");
  sim.setProgramStatus(ProgramStatusType.NeedPicVerifyCode);
  const announced = (await needsCode).picturePath;
  await readyAgain;
  return { asked, announced };
}

Deno.test("options: picturePath defaults to where OpenD saves the picture code", async () => {
  const expected = openDPicturePath();
  const { asked, announced } = await pictureCodeAsked();
  assertEquals(asked, [{
    kind: "picture",
    picturePath: expected,
    attempt: 1,
    reason: "needed",
  }]);
  assertEquals(announced, expected);
  assertStringIncludes(expected, "com.futunn.FutuOpenD");
});

Deno.test("options: an explicit picturePath (moomoo's directory) wins", async () => {
  const mine = "/home/me/.com.moomoo.OpenD/F3CNN/PicVerifyCode.png";
  const { asked, announced } = await pictureCodeAsked(mine);
  assertEquals(asked.map((input) => input.picturePath), [mine]);
  assertEquals(announced, mine);
});

Deno.test("options: without permission to read the home directory there is no default, and no error", async () => {
  const client = new URL("../client/mod.ts", import.meta.url).href;
  const script = `
    import { createOpenDClient } from ${JSON.stringify(client)};
    const c = createOpenDClient({ autoStart: false });
    console.log(JSON.stringify({
      picturePath: c.getSnapshot().context.options.picturePath ?? null,
    }));
    await c.close();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-"],
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  assertEquals(JSON.parse(new TextDecoder().decode(stdout)), {
    picturePath: null,
  });
});
