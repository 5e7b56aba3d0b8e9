/**
 * `deno task serve --port 11111 --ops-port 22222 --listen 127.0.0.1:8080`:
 * runs the supervised client against OpenD and serves its operations
 * surface over HTTP: `/healthz`, `/readyz`, `/metrics`, `/api/status`,
 * `/api/events`, the web console at `/`, `POST /api/code` and
 * `POST /api/reset`; posts alerts to `--webhook` URLs.
 *
 * Listens on loopback unless told otherwise; any other address needs a
 * token (`--token-env NAME`), and secrets (token, webhook secret, login
 * password) are read from the environment only, never from the command line.
 * @module
 */
import { createOpenDClient, type OpenDClient } from "../client/mod.ts";
import {
  createServeHandler,
  isLoopbackHost,
  parseListen,
  type ServeHandler,
} from "../serve/mod.ts";
import { createTimeline, followClient, wantsColor } from "./_timeline.ts";
import { parseCommandLine, refuse } from "./_args.ts";
import { checkClientFlags, CLIENT_FLAGS } from "./_client_flags.ts";

const COMMAND = "serve";

const USAGE = `Usage: deno task serve [--host H] [--port P] [options]
Runs the OpenD supervisor and serves health, metrics, events and a web console.
  --host H                  OpenD's host (default 127.0.0.1)
  --port P                  OpenD's API port (default 11111)
  --ops-port N              OpenD's operations (telnet) port, for relogin without a person
  --rsa PEM_FILE            the RSA private key configured in OpenD (encrypts the session)
  --algo MODE               aes_cbc | ftaes_ecb | none (default aes_cbc with --rsa)
  --json                    protobuf JSON bodies instead of protobuf
  --picture-path PATH       where OpenD saves the picture code (shown in the console)
  --password-env NAME       environment variable holding the login password (default OPEND_LOGIN_PWD)
  --listen HOST:PORT        where to serve HTTP (default 127.0.0.1:8080)
  --token-env NAME          environment variable holding the access token; required
                            unless --listen is a loopback address
  --allow-origin ORIGIN     another origin allowed to post (a proxy's), repeatable
  --webhook URL             post alerts here, repeatable
  --webhook-secret-env NAME environment variable holding the webhooks' HMAC secret
  --quiet                   print only the console's address, not the timeline
  --help                    this text
Ctrl+C or SIGTERM stops gracefully.`;

class UsageError extends Error {}

function env(name: string, what: string): string {
  const value = Deno.env.get(name);
  if (value === undefined || value === "") {
    throw new UsageError(`${what}: $${name} is not set`);
  }
  return value;
}

/** Runs the command line; resolves to the exit status. */
export async function main(
  args: string[],
  stop: Promise<void> | undefined = undefined,
): Promise<number> {
  const parsed = parseCommandLine(COMMAND, {
    args,
    options: {
      ...CLIENT_FLAGS,
      listen: { type: "string", default: "127.0.0.1:8080" },
      "token-env": { type: "string" },
      "allow-origin": { type: "string", multiple: true },
      webhook: { type: "string", multiple: true },
      "webhook-secret-env": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  let client: OpenDClient;
  let handler: ServeHandler;
  let listen: { hostname: string; port: number };
  try {
    const flags = checkClientFlags(values);
    if (typeof flags === "string") throw new UsageError(flags);
    listen = parseListen(values.listen);
    for (const origin of values["allow-origin"] ?? []) {
      let parsed = "";
      try {
        parsed = new URL(origin).origin;
      } catch { /* reported below */ }
      if (parsed !== origin) {
        throw new UsageError(
          `--allow-origin takes an origin like https://opend.example.com, got "${origin}"`,
        );
      }
    }
    const token = values["token-env"] === undefined
      ? undefined
      : env(values["token-env"], "--token-env");
    if (token === undefined && !isLoopbackHost(listen.hostname)) {
      throw new UsageError(
        `--listen ${values.listen} is not loopback: give a token with --token-env NAME`,
      );
    }
    const secret = values["webhook-secret-env"] === undefined
      ? undefined
      : env(values["webhook-secret-env"], "--webhook-secret-env");
    const rsaPrivateKey = values.rsa === undefined
      ? undefined
      : await Deno.readTextFile(values.rsa).catch(() => {
        throw new UsageError(`--rsa: cannot read ${values.rsa}`);
      });
    const passwordEnv = values["password-env"];
    client = createOpenDClient({
      ...flags,
      rsaPrivateKey,
      autoStart: false,
      credentialsProvider: () => {
        const password = Deno.env.get(passwordEnv);
        return password ? { password } : undefined;
      },
    });
    handler = createServeHandler(client, {
      ...(token === undefined ? {} : { token }),
      allowedOrigins: values["allow-origin"] ?? [],
      webhooks: {
        urls: values.webhook ?? [],
        ...(secret === undefined ? {} : { secret }),
      },
    });
  } catch (error) {
    return refuse(COMMAND, (error as Error).message);
  }

  const done = Promise.withResolvers<void>();
  const onSignal = () => done.resolve();
  if (stop === undefined) {
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
  } else stop.then(onSignal);

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: listen.hostname,
      port: listen.port,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(
          `opend-machine serve: console on http://${host}:${port}/ ; OpenD at ${client.address}`,
        );
      },
    }, handler.fetch);
  } catch (error) {
    console.error(
      `cannot listen on ${values.listen}: ${(error as Error).message}`,
    );
    await handler.close();
    await client.close();
    return 1;
  }
  // The same timeline as `watch`, for the container's log (no secrets).
  if (!values.quiet) {
    followClient(
      client,
      createTimeline((line) => console.log(line), wantsColor()),
    );
  }
  client.start();
  await done.promise;
  await handler.close();
  await server.shutdown();
  await client.close();
  if (stop === undefined) {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
