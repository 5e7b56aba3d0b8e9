import { assertEquals } from "@std/assert";

// What the README's "Deno: import from a URL" says about a server's
// Content-Type for `.ts` files, checked against the Deno that runs the tests.
const MODULE = "const answer: number = 42;\nconsole.log(answer);\n";

async function runsAsTypeScript(contentType: string): Promise<boolean> {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(MODULE, { headers: { "content-type": contentType } }),
  );
  const host = `127.0.0.1:${server.addr.port}`;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--reload",
      `--allow-import=${host}`,
      `http://${host}/mod.ts`,
    ],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return code === 0 && new TextDecoder().decode(stdout).trim() === "42";
}

Deno.test("URL import: which Content-Type a server may send for a .ts file", async () => {
  const verdicts: Record<string, boolean> = {};
  for (
    const type of [
      "application/typescript",
      "text/typescript",
      "video/mp2t", // nginx's default mime.types
      "text/plain; charset=utf-8", // Deno goes by the extension
      "application/octet-stream", // likewise
      "text/vnd.trolltech.linguist", // Debian's /etc/mime.types (Python's http.server)
      "text/javascript",
    ]
  ) {
    verdicts[type] = await runsAsTypeScript(type);
  }
  assertEquals(verdicts, {
    "application/typescript": true,
    "text/typescript": true,
    "video/mp2t": true,
    "text/plain; charset=utf-8": true,
    "application/octet-stream": true,
    "text/vnd.trolltech.linguist": false,
    "text/javascript": false,
  });
});
