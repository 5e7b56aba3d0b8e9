/**
 * The reliability campaigns, as code the project runs: the frame and
 * message fuzz (`deno task fuzz`), seeded fault runs of the client against
 * the simulator through a fault proxy (`deno task faults`), and the search
 * for secrets in everything the library and its tools emit
 * (`deno task secrets`). CI runs a seeded slice of each.
 *
 * @example
 * ```ts ignore
 * import { runFaults, runFuzz, runSecrets } from "./mod.ts";
 * const fuzz = await runFuzz({ seed: 1, n: 1000 });
 * const faults = await runFaults({ seed: 1, runs: 10 });
 * const secrets = await runSecrets();
 * console.log(fuzz.failures, faults.failures, secrets.hits);
 * ```
 * @module
 */
export {
  type FuzzFailure,
  type FuzzOptions,
  type FuzzReport,
  replayKey,
  runFuzz,
} from "./fuzz_campaign.ts";
export {
  type FrameStreamOutcome,
  fuzzFrameStream,
  STREAM_MODES,
  type StreamMode,
} from "./frame_fuzz.ts";
export {
  type Decoder,
  fuzzMessageBody,
  MESSAGE_DECODERS,
  type MessageBodyOutcome,
} from "./message_fuzz.ts";
export {
  type DropHow,
  type DropPhase,
  FaultProxy,
  type NextConnectionFault,
} from "./fault_proxy.ts";
export {
  FAULT_KIND_NAMES,
  FAULT_RUN_TIMINGS,
  type FaultRunOptions,
  type FaultRunOutcome,
  PENDING_FAULTS,
  runFaultRun,
} from "./fault_run.ts";
export {
  type FaultsOptions,
  type FaultsReport,
  runFaults,
} from "./fault_campaign.ts";
export {
  isPendingHit,
  PENDING_SECRET_HITS,
  PLANTED,
  runSecrets,
  type SecretsOptions,
  type SecretsReport,
} from "./secrets_campaign.ts";
export { type Needle, type SecretHit, SecretScanner } from "./_secret_scan.ts";
