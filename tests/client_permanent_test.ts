/**
 * Failures no retry can fix (an unknown host, a port that does not speak
 * OpenD's protocol, a wrong RSA key) stop the client after a few identical
 * ones, with a reason that says what is wrong; other failures keep retrying.
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { createServer, type Socket } from "node:net";
import { ClientError, ClientErrorCode } from "../client/mod.ts";
import { generateRsaKeyPem } from "../codec/mod.ts";
import { clientFor, EventLog, quietFor, startSim } from "./_client_helpers.ts";

/** A loopback server that answers every connection like a web server. */
async function notOpenD(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve())
  );
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function stoppedWith(
  client: ReturnType<typeof clientFor>,
): Promise<string> {
  const error = await assertRejects(
    () => client.whenReady(10_000),
    ClientError,
  );
  assertEquals(error.code, ClientErrorCode.Stopped, error.message);
  return error.message;
}

Deno.test("an unknown host stops the client after 3 identical failures, saying so", async () => {
  await using client = clientFor({ port: 11111 }, {
    host: "no-such-host.invalid",
  });
  const log = new EventLog(client);
  const message = await stoppedWith(client);
  assertStringIncludes(message, "unknown host: 3 failures in a row");
  assertStringIncludes(message, "ENOTFOUND");
  assertEquals(log.of("lost").length, 3);
  assertEquals(log.of("stopped").length, 1);
  assertEquals(client.describe().link, "stopped");
});

Deno.test("a port that does not speak OpenD's protocol (BAD_MAGIC from the first byte) stops the client", async () => {
  const web = await notOpenD();
  try {
    await using client = clientFor({ port: web.port });
    const message = await stoppedWith(client);
    assertStringIncludes(message, "does not speak OpenD's protocol");
    assertStringIncludes(message, "BAD_MAGIC");
  } finally {
    await web.close();
  }
});

Deno.test("a wrong RSA key stops the client after 3 InitConnects it cannot read", async () => {
  await using sim = await startSim({ rsaPrivateKey: generateRsaKeyPem() });
  await using client = clientFor(sim, { rsaPrivateKey: generateRsaKeyPem() });
  const message = await stoppedWith(client);
  assertStringIncludes(message, "RSA key");
  assertEquals(
    sim.events.filter((e) => e.type === "connectionOpened").length,
    3,
  );
});

Deno.test("maxPermanentFailures is a knob; a refused port (not permanent) keeps retrying", async () => {
  await using client = clientFor({ port: 11111 }, {
    host: "no-such-host.invalid",
    session: { maxPermanentFailures: 1 },
  });
  const log = new EventLog(client);
  await stoppedWith(client);
  assertEquals(log.of("lost").length, 1);

  // A port nobody listens on may open any moment: never permanent.
  const web = await notOpenD();
  const port = web.port;
  await web.close();
  await using retrying = clientFor({ port }, {
    session: { maxPermanentFailures: 1 },
  });
  const retries = new EventLog(retrying);
  await quietFor(600);
  assert(retries.of("lost").length >= 3, String(retries.of("lost").length));
  assertEquals(retries.of("stopped"), []);
});
