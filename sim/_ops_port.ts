/**
 * The operations (telnet) port: one command per line, one reply line per
 * command (the table is on `OpenDSimulator`). Code requests and inputs go to
 * the gateway like the API's Verification; `relogin` checks the password
 * here ({@link _OpsPort.relogin}). Passwords and codes never reach an event.
 * @module
 */
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import {
  GtwEventType,
  VerificationOp,
  VerificationType,
} from "../codec/definitions.ts";
import { qotRightNotification } from "../codec/notify.ts";
import type { _Admission, _Connections } from "./_connections.ts";
import type { _EventLog } from "./_event_log.ts";
import { type _Gateway, _tooFrequent, type _Verdict } from "./_gateway.ts";
import {
  _LineSplitter,
  _loggableCommand,
  _parseOpsLine,
  _redactArgs,
  _safeCommandName,
} from "./_ops_line.ts";

type _OpsConnection = {
  id: number;
  socket: Socket;
  closed: Promise<void>;
  reason?: string;
};

function md5Hex(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

/** The ops port's clients and the commands they send. */
export class _OpsPort {
  readonly #events: _EventLog;
  readonly #gateway: _Gateway;
  readonly #connections: _Connections;
  readonly #admission: () => _Admission;
  readonly #open = new Map<number, _OpsConnection>();
  #nextOps = 1;

  /** `admission` tells, at each accept, whether clients are taken now. */
  constructor(
    events: _EventLog,
    gateway: _Gateway,
    connections: _Connections,
    admission: () => _Admission,
  ) {
    this.#events = events;
    this.#gateway = gateway;
    this.#connections = connections;
    this.#admission = admission;
  }

  /** A client connected to the ops port. */
  accept(socket: Socket): void {
    socket.on("error", () => {});
    if (this.#admission() === "drop") {
      socket.destroy();
      return;
    }
    const id = this.#nextOps++;
    const ops: _OpsConnection = {
      id,
      socket,
      closed: new Promise((resolve) => {
        socket.once("close", () => {
          this.#open.delete(id);
          this.#events.record({
            type: "opsConnectionClosed",
            ops: id,
            reason: ops.reason ?? "closed by the client",
          });
          resolve();
        });
      }),
    };
    this.#open.set(id, ops);
    socket.setNoDelay(true);
    this.#events.record({
      type: "opsConnectionOpened",
      ops: id,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    });
    const splitter = new _LineSplitter();
    socket.on("data", (chunk: Uint8Array) => {
      if (ops.reason !== undefined) return;
      const lines = splitter.push(chunk);
      if (lines === undefined) {
        ops.reason = "line too long";
        socket.destroy();
        return;
      }
      for (const line of lines) {
        if (ops.reason !== undefined) return;
        const reply = this.#command(ops, line);
        if (reply !== undefined) socket.write(`${reply}\r\n`);
      }
    });
  }

  /** Ends every ops connection after a flush (OpenD restarting). */
  endAll(reason: string): void {
    for (const ops of this.#open.values()) {
      ops.reason ??= reason;
      ops.socket.end(() => ops.socket.destroy());
    }
  }

  /** Closes every ops connection at once; resolves when all are closed. */
  destroyAll(reason: string): Promise<void>[] {
    const closed: Promise<void>[] = [];
    for (const ops of this.#open.values()) {
      ops.reason ??= reason;
      ops.socket.destroy();
      closed.push(ops.closed);
    }
    return closed;
  }

  /**
   * `relogin [-login_pwd=P|-login_pwd_md5=H]`: within the rate limit, and
   * unless the account is banned, checks the password given (or, with none,
   * the one OpenD keeps) against the account's; a good one is kept and the
   * login starts once the reply is out. A bad one fails the login
   * (GtwEvent LoginFailed, status LoginFailed).
   */
  relogin(args: Readonly<Record<string, string>>): _Verdict {
    const gateway = this.#gateway;
    const plain = args.login_pwd;
    const md5 = args.login_pwd_md5;
    const password = plain !== undefined
      ? "plain"
      : md5 !== undefined
      ? "md5"
      : "none";
    const fail = (reason: string): _Verdict => {
      this.#events.record({
        type: "relogin",
        via: "ops",
        ok: false,
        reason,
        password,
      });
      return { ok: false, reason };
    };
    const verdict = gateway.limits.relogin.take(Date.now());
    if (!verdict.ok) return fail(_tooFrequent(verdict.retryInMs));
    if (gateway.account.banned) {
      gateway.loginFailed("account banned");
      return fail("account banned");
    }
    const account = gateway.account.password;
    let good: boolean;
    if (account === undefined) good = true;
    else if (plain !== undefined) good = plain === account;
    else if (md5 !== undefined) good = md5.toLowerCase() === md5Hex(account);
    else good = gateway.account.stored === account;
    if (!good) {
      gateway.loginFailed("password error", GtwEventType.LoginFailed);
      return fail("password error");
    }
    gateway.account.stored = account;
    this.#events.record({ type: "relogin", via: "ops", ok: true, password });
    return { ok: true, then: () => gateway.beginLogin() };
  }

  /** Handles one line; returns the reply line (without CRLF), if any. */
  #command(ops: _OpsConnection, line: string): string | undefined {
    const parsed = _parseOpsLine(line);
    if (parsed === undefined) return undefined;
    const { args } = parsed;
    const command = _safeCommandName(parsed.command);
    this.#events.record({
      type: "opsCommand",
      ops: ops.id,
      command: _loggableCommand(parsed.command),
      args: _redactArgs(parsed.command, args),
    });
    const answer = (verdict: _Verdict, ok: string): string => {
      if (!verdict.ok) return `${command}: FAILED, ${verdict.reason}`;
      verdict.then?.();
      return `${command}: OK, ${ok}`;
    };
    const request = (type: number) =>
      this.#gateway.verification("ops", type, VerificationOp.Request);
    const code = (type: number) => {
      if (args.code === undefined || args.code === "") {
        return `${command}: FAILED, missing -code`;
      }
      return answer(
        this.#gateway.verification(
          "ops",
          type,
          VerificationOp.InputAndLogin,
          args.code,
        ),
        "logging in",
      );
    };
    switch (parsed.command) {
      case "req_phone_verify_code":
        return answer(
          request(VerificationType.Phone),
          "verification code sent",
        );
      case "input_phone_verify_code":
        return code(VerificationType.Phone);
      case "req_pic_verify_code":
        return answer(
          request(VerificationType.Picture),
          "picture verification code refreshed",
        );
      case "input_pic_verify_code":
        return code(VerificationType.Picture);
      case "relogin":
        return answer(this.relogin(args), "logging in");
      case "request_highest_quote_right":
        this.#connections.pushNotification(
          qotRightNotification({ hkQotRight: 3, usQotRight: 3, cnQotRight: 2 }),
        );
        return `${command}: OK, highest quote right requested`;
      case "close_api_conn": {
        const id = args.conn_id;
        if (id === undefined || id === "") {
          return `${command}: FAILED, missing -conn_id`;
        }
        const conn = this.#connections.byConnId(id);
        if (conn === undefined) {
          return `${command}: FAILED, no API connection ${
            _safeCommandName(id)
          }`;
        }
        conn.close("closed by close_api_conn");
        return `${command}: OK, closed connection ${id}`;
      }
      case "help":
        return `${command}: OK, commands: req_phone_verify_code, input_phone_verify_code -code=C, ` +
          "req_pic_verify_code, input_pic_verify_code -code=C, " +
          "relogin [-login_pwd=P|-login_pwd_md5=H], request_highest_quote_right, " +
          "close_api_conn -conn_id=N, exit";
      case "exit":
        this.#events.record({ type: "opsExitRefused", ops: ops.id });
        return "exit: REFUSED, this simulator does not stop on request";
      default:
        return `${command}: FAILED, unknown command`;
    }
  }
}
