/**
 * The OpenD client: one call connects to OpenD and runs the session
 * supervisor over real sockets (`node:net`, so it runs in Deno and Node):
 * InitConnect (RSA, then AES-CBC or FTAES_ECB as negotiated),
 * GetGlobalState, KeepAlive, Verification, relogin through the operations
 * port, reconnects with backoff; plus request/response by serialNo and push
 * subscriptions, delivered in arrival order.
 *
 * @example
 * ```ts
 * import { createOpenDClient } from "./mod.ts";
 * import { startSimulator } from "../sim/mod.ts";
 * // A simulated OpenD stands in for the real one (ports 11111 and 22222).
 * await using sim = await startSimulator({ port: 0, opsPort: 0 });
 * const { port, opsPort } = sim.address;
 * await using client = createOpenDClient({ host: "127.0.0.1", port, opsPort });
 * client.on("needsCode", ({ kind }) => console.log(`OpenD needs a ${kind} code`));
 * client.on("fatal", ({ reason }) => console.error("OpenD:", reason));
 * await client.whenReady(60_000);
 * const state = await client.request(1002, { userID: "0" });
 * console.log(state.programStatus, client.describe());
 * ```
 * @module
 */
export {
  type ConnectionInfo,
  createOpenDClient,
  OpenDClient,
  type OpsOptions,
  type PushHandler,
  type PushPacket,
  type RawPacket,
  type RequestOptions,
  type SessionActor,
  type SessionEventOf,
  type SessionEventType,
} from "./client.ts";
export {
  ClientError,
  ClientErrorCode,
  type ClientErrorDetails,
  isClientError,
} from "./client_error.ts";
export {
  type CodeProvider,
  type CodeRequest,
  type CredentialsProvider,
  type CredentialsRequest,
  type HandlerErrorContext,
  type InspectionEventLike,
  type OpenDClientOptions,
  type PacketEncAlgoOption,
  type ReconnectOptions,
} from "./options.ts";
export {
  describeOpsCommand,
  formatOpsCommand,
  OPS_COMMANDS,
  type OpsCommand,
  type OpsCommandName,
  passwordMd5,
} from "./ops_command.ts";
