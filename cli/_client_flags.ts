/**
 * The command-line flags every command that runs a client against OpenD
 * takes (watch, serve), and the one check of their values, so the commands
 * agree on names, defaults and wording.
 * @module
 */

/** `parseArgs` options for reaching OpenD; spread into a command's own. */
export const CLIENT_FLAGS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "11111" },
  "ops-port": { type: "string" },
  rsa: { type: "string" },
  algo: { type: "string" },
  json: { type: "boolean", default: false },
  "picture-path": { type: "string" },
  "password-env": { type: "string", default: "OPEND_LOGIN_PWD" },
} as const;

/** The client flags' values as `parseArgs` returns them. */
export interface ClientFlagValues {
  readonly host: string;
  readonly port: string;
  readonly json: boolean;
  readonly "picture-path"?: string;
  readonly "ops-port"?: string;
  readonly rsa?: string;
  readonly algo?: string;
}

/**
 * The client flags' values, checked and converted into the options of
 * `createOpenDClient` they stand for (the RSA key file is read by the caller).
 */
export interface ClientFlags {
  readonly host: string;
  readonly port: number;
  readonly opsPort?: number;
  readonly packetEncAlgo?: "aes_cbc" | "ftaes_ecb" | "none";
  readonly protoFmt: 0 | 1;
  readonly picturePath?: string;
}

/**
 * Checks the client flags' values: the converted flags, or one sentence
 * saying what is wrong.
 *
 * @example
 * ```ts
 * import { checkClientFlags } from "./_client_flags.ts";
 * checkClientFlags({ host: "127.0.0.1", port: "11111", json: false, algo: "aes_cbc" });
 * // "--algo aes_cbc needs --rsa: OpenD encrypts only with its RSA key"
 * ```
 */
export function checkClientFlags(
  values: ClientFlagValues,
): ClientFlags | string {
  const port = Number(values.port);
  const opsPort = values["ops-port"] === undefined
    ? undefined
    : Number(values["ops-port"]);
  const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!isPort(port) || (opsPort !== undefined && !isPort(opsPort))) {
    return "--port and --ops-port take a port number (1 to 65535)";
  }
  const algo = values.algo;
  if (algo !== undefined && !["aes_cbc", "ftaes_ecb", "none"].includes(algo)) {
    return "--algo must be aes_cbc, ftaes_ecb or none";
  }
  if (algo !== undefined && algo !== "none" && values.rsa === undefined) {
    return `--algo ${algo} needs --rsa: OpenD encrypts only with its RSA key`;
  }
  const picturePath = values["picture-path"];
  return {
    host: values.host,
    port,
    protoFmt: values.json ? 1 : 0,
    ...(picturePath === undefined ? {} : { picturePath }),
    ...(opsPort === undefined ? {} : { opsPort }),
    ...(algo === undefined
      ? {}
      : { packetEncAlgo: algo as "aes_cbc" | "ftaes_ecb" | "none" }),
  };
}
