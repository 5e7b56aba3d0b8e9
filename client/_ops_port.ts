/**
 * One exchange with OpenD's operations port: connect, write one command line
 * (CRLF), read one reply line, close. Never throws; every failure is a
 * rejected {@link ClientError}.
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Secret } from "../machines/mod.ts";
import { ClientError, ClientErrorCode } from "./client_error.ts";
import { _socketErrorText } from "./_socket_error.ts";

/** Where and how long. */
export interface _OpsTarget {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Registers the socket's close, so the client can wait for it. */
  readonly track: (closed: Promise<void>) => void;
}

const MAX_REPLY = 4096;

/** UTF-8 when it is valid UTF-8, else GB18030 (OpenD's sample reads gb2312). */
function decodeReply(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    try {
      return new TextDecoder("gb18030").decode(bytes);
    } catch {
      return new TextDecoder().decode(bytes);
    }
  }
}

/**
 * Sends `line` and resolves with the first non-empty reply line (CR/LF
 * removed). `written` is called once the line was handed to the socket (so a
 * rate-limit slot is spent only then).
 */
export function _sendOpsLine(
  target: _OpsTarget,
  line: Secret<string>,
  written: () => void,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const where = `${target.host}:${target.port}`;
    const failure = (code: ClientErrorCode, text: string, cause?: unknown) =>
      new ClientError(
        code,
        `ops port ${where}: ${text}`,
        cause === undefined ? {} : { cause },
      );
    let socket: Socket;
    try {
      socket = connect({ host: target.host, port: target.port });
    } catch (error) {
      reject(failure(ClientErrorCode.OpsFailed, "could not connect", error));
      return;
    }
    let settled = false;
    const chunks: number[] = [];
    const finish = (error: ClientError | undefined, reply?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      // Polite close; destroyed if the peer does not close in turn.
      try {
        if (error === undefined) socket.end(() => socket.destroy());
        else socket.destroy();
      } catch { /* already gone */ }
      if (error === undefined) resolve(reply ?? "");
      else reject(error);
    };
    const onAbort = () =>
      finish(
        failure(ClientErrorCode.OpsFailed, "the command was abandoned"),
      );
    const timer = setTimeout(
      () =>
        finish(
          failure(
            ClientErrorCode.Timeout,
            `no reply within ${target.timeoutMs} ms`,
          ),
        ),
      target.timeoutMs,
    );
    target.track(
      new Promise<void>((done) => socket.once("close", () => done())),
    );
    socket.on(
      "error",
      (error: Error & { code?: string }) =>
        finish(failure(ClientErrorCode.OpsFailed, _socketErrorText(error))),
    );
    socket.on("close", () => {
      const rest = chunks.length > 0
        ? decodeReply(Uint8Array.from(chunks)).trim()
        : "";
      if (rest !== "") return finish(undefined, rest);
      finish(failure(ClientErrorCode.OpsFailed, "closed without a reply"));
    });
    socket.on("connect", () => {
      if (settled) return;
      try {
        socket.write(`${line.reveal()}\r\n`);
        written();
      } catch {
        finish(
          failure(ClientErrorCode.OpsFailed, "could not write the command"),
        );
      }
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (settled) return;
      for (const byte of chunk) {
        if (byte === 0x0a) {
          const text = decodeReply(Uint8Array.from(chunks)).trim();
          chunks.length = 0;
          if (text !== "") return finish(undefined, text);
          continue;
        }
        chunks.push(byte);
        if (chunks.length > MAX_REPLY) {
          return finish(
            failure(
              ClientErrorCode.OpsFailed,
              `reply line longer than ${MAX_REPLY} bytes`,
            ),
          );
        }
      }
    });
    socket.setNoDelay(true);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
