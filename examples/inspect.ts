/**
 * Watch a live session supervisor in the Stately inspector: its states,
 * events and context as they happen, in the interactive view.
 *
 * ```sh
 * deno run -A examples/inspect.ts                          # Stately Sky
 * deno run -A examples/inspect.ts --ws ws://127.0.0.1:8080 # your own receiver
 * ```
 *
 * - Stately Sky (default, needs the internet): prints a link; open it in a
 *   browser to watch. Sky is @statelyai/inspect's inspector for programs
 *   without a window; `createBrowserInspector` only works in a browser.
 * - `--ws URL`: sends inspection events to a WebSocket receiver of your own
 *   (`createWebSocketReceiver` from @statelyai/inspect, in a page or a
 *   script), nothing leaves your network.
 *
 * The session's actors come from a scripted, in-process fake OpenD given
 * with `.provide()`: it connects, reports Ready, then asks for a phone
 * verification code, takes one, and is Ready again. With the real client,
 * pass its actors instead; nothing else changes: the inspector only needs
 * `createActor(machine, { inspect: inspector.inspect })`.
 * @module
 */
// The inspector is this example's own dependency, pinned here; the library
// does not use it.
// deno-lint-ignore-file no-import-prefix
import {
  createSkyInspector,
  createWebSocketInspector,
} from "npm:@statelyai/inspect@0.7.2";
import { createActor, fromCallback, fromPromise } from "xstate";
import {
  gtwEventNotification,
  GtwEventType,
  programStatusNotification,
  ProgramStatusType,
} from "../mod.ts";
import {
  type CodeProviderInput,
  type ConnectionInput,
  type GetGlobalStateOutput,
  type InitConnectInput,
  type InitConnectOutput,
  type LinkEvent,
  type LinkInput,
  type RequestCodeInput,
  sessionMachine,
  type SubmitCodeInput,
} from "../machines/mod.ts";
import { parseCommandLine } from "../cli/_args.ts";

const parsed = parseCommandLine("inspect", {
  args: Deno.args,
  options: {
    ws: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (typeof parsed === "number") Deno.exit(parsed);
if (parsed.values.help) {
  console.log(`Usage: deno task inspect [--ws URL]
Plays a scripted session and shows it live in the Stately inspector.
  --ws URL     send inspection events to your own WebSocket receiver
               (default: Stately Sky, which prints a link; needs the internet)
  -h, --help   this text`);
  Deno.exit(0);
}
const wsUrl = parsed.values.ws;
const inspector = wsUrl !== undefined
  ? createWebSocketInspector({ url: wsUrl })
  : createSkyInspector({ onerror: (error) => console.error(error.message) });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A stand-in for the real client's actors (client/ provides those).
const fakeOpenD = sessionMachine.provide({
  actors: {
    link: fromCallback<LinkEvent, LinkInput>(({ sendBack }) => {
      const timers = [
        setTimeout(() => sendBack({ type: "LINK_UP" }), 300),
        // OpenD asks for a phone code a few seconds after login...
        setTimeout(() =>
          sendBack({
            type: "NOTIFICATION",
            notification: gtwEventNotification(
              GtwEventType.NeedPhoneVerifyCode,
              "phone verification needed",
            ),
          }), 4_000),
      ];
      const bytes = setInterval(
        () => sendBack({ type: "BYTES_RECEIVED" }),
        2_000,
      );
      return () => {
        timers.forEach(clearTimeout);
        clearInterval(bytes);
      };
    }),
    initConnect: fromPromise<InitConnectOutput, InitConnectInput>(async () => {
      await sleep(200);
      return { connId: "7188300283432012345", keepAliveInterval: 10 };
    }),
    getGlobalState: fromPromise<GetGlobalStateOutput, ConnectionInput>(() =>
      Promise.resolve({
        programStatus: { type: ProgramStatusType.Ready },
        qotLogined: true,
        trdLogined: true,
      })
    ),
    keepAlive: fromPromise<unknown, ConnectionInput>(() => Promise.resolve()),
    requestVerificationCode: fromPromise<unknown, RequestCodeInput>(() =>
      sleep(300)
    ),
    codeProvider: fromPromise<string, CodeProviderInput>(async ({ input }) => {
      console.log(`code provider asked for a ${input.kind} code`);
      await sleep(2_000);
      return "123456";
    }),
    submitVerificationCode: fromPromise<unknown, SubmitCodeInput>(async () => {
      await sleep(300);
      // ...and, with the right code, is logged in again.
      setTimeout(() =>
        session.send({
          type: "NOTIFICATION",
          notification: programStatusNotification(ProgramStatusType.Ready),
        }), 500);
    }),
  },
});

const session = createActor(fakeOpenD, {
  inspect: inspector.inspect,
  input: { reconnectCapMs: 30_000 },
});
session.on("*", (emitted) => console.log("emitted:", emitted.type));
session.start();
session.send({ type: "START" });

await sleep(20_000);
session.send({ type: "CLOSE" });
await sleep(1_000);
session.stop();
inspector.stop();
Deno.exit(0);
