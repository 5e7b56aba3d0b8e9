/**
 * `deno task demo:serve`: a simulated OpenD, the supervised client and the
 * web console in one process. It prints the console's URL and loops a story
 * that needs a person: OpenD asks for a phone code (type the code it prints
 * into the page), later OpenD restarts and the client reconnects. Ctrl+C
 * stops it.
 * @module
 */
import { parseCommandLine, refuse } from "./_args.ts";
import { createOpenDClient } from "../client/mod.ts";
import { startSimulator } from "../sim/mod.ts";
import {
  createServeHandler,
  isLoopbackHost,
  parseListen,
} from "../serve/mod.ts";

const COMMAND = "demo:serve";

const USAGE = `Usage: deno task demo:serve [--listen HOST:PORT]
A simulated OpenD, the client and the web console; the story loops until Ctrl+C.
  --listen HOST:PORT   where to serve the console (default 127.0.0.1:8080; loopback only)
  --help               this text`;

/** The SMS code the simulated OpenD expects. */
export const DEMO_PHONE_CODE = "246810";

/** Runs the demo until `stop` resolves (or Ctrl+C); resolves to the exit status. */
export async function main(
  args: string[],
  stop?: Promise<void>,
  write: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const parsed = parseCommandLine(COMMAND, {
    args,
    options: {
      listen: { type: "string", default: "127.0.0.1:8080" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (values.help) {
    write(USAGE);
    return 0;
  }
  let listen;
  try {
    listen = parseListen(values.listen);
  } catch (error) {
    return refuse(COMMAND, (error as Error).message);
  }
  if (!isLoopbackHost(listen.hostname)) {
    return refuse(
      COMMAND,
      `--listen ${values.listen}: the demo listens on loopback only`,
    );
  }

  const done = Promise.withResolvers<void>();
  const onSignal = () => done.resolve();
  if (stop === undefined) Deno.addSignalListener("SIGINT", onSignal);
  else stop.then(onSignal);

  await using sim = await startSimulator({
    port: 0,
    opsPort: 0,
    phoneCode: DEMO_PHONE_CODE,
    keepAliveInterval: 2,
    loginDelayMs: 500,
  });
  await using client = createOpenDClient({
    port: sim.address.port,
    opsPort: sim.address.opsPort,
    reconnect: { baseMs: 1_000, capMs: 4_000, stableMs: 1_000 },
    // A person at the console has 5 minutes to type each code.
    session: { providerTimeoutMs: 300_000 },
  });
  await using handler = createServeHandler(client, { log: () => {} });
  const server = Deno.serve({
    hostname: listen.hostname,
    port: listen.port,
    onListen: ({ port }) => {
      write(`opend-machine console: http://${listen.hostname}:${port}/`);
      write(
        `OpenD simulator: api 127.0.0.1:${sim.address.port}; when it asks for a phone code, type ${DEMO_PHONE_CODE} in the console.`,
      );
    },
  }, handler.fetch);

  // The story: Ready for a while, then a phone code; Ready, then a restart.
  const story = (async () => {
    const stopped = done.promise.then(() => "stop" as const);
    const pause = (ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        new Promise<"go">((resolve) => {
          timer = setTimeout(() => resolve("go"), ms);
        }),
        stopped,
      ]).finally(() => clearTimeout(timer));
    };
    const ready = () =>
      Promise.race([client.whenReady().then(() => "go" as const), stopped]);
    for (let round = 1;; round++) {
      if (await ready() === "stop" || await pause(12_000) === "stop") return;
      const name = round % 2 === 1 ? "phone-code" : "opend-restart";
      write(`round ${round}: ${name}`);
      const run = sim.runScenario(name);
      if (
        await Promise.race([run.done.then(() => "go" as const), stopped]) ===
          "stop"
      ) {
        run.cancel();
        return;
      }
      // Let OpenD's news reach the client before waiting for Ready again.
      if (await pause(2_000) === "stop") return;
    }
  })().catch((error) => {
    write(`demo stopped: ${(error as Error).message}`);
    done.resolve();
  });

  await done.promise;
  await story;
  await handler.close();
  await server.shutdown();
  if (stop === undefined) Deno.removeSignalListener("SIGINT", onSignal);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
