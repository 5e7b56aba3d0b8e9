/**
 * The official JavaScript SDK (npm `futu-api`, pinned by its npm: specifier) in a
 * child process (see `_futu_sdk_driver.ts`), driven line by line.
 * @module
 */
import { fileURLToPath } from "node:url";

const DRIVER = fileURLToPath(new URL("./_futu_sdk_driver.ts", import.meta.url));

/**
 * Test-only TLS material (a CA and a localhost/127.0.0.1 certificate it
 * signed, valid until 2126); the CA's own key was thrown away.
 */
export const TLS_FIXTURES = {
  ca: fileURLToPath(new URL("./fixtures/ws_tls/ca.pem", import.meta.url)),
  cert: fileURLToPath(new URL("./fixtures/ws_tls/cert.pem", import.meta.url)),
  key: fileURLToPath(new URL("./fixtures/ws_tls/key.pem", import.meta.url)),
};

/** One line the driver printed. */
export type SdkLine = {
  event: "login" | "push" | "close" | "result";
  ok?: boolean;
  connID?: string;
  error?: unknown;
  cmd?: number;
  id?: number;
  code?: number;
  // deno-lint-ignore no-explicit-any
  message?: any;
};

/** Options of {@link SdkProcess.start}. */
export interface SdkStartOptions {
  /** The simulator's WebSocket port. */
  port: number;
  /** `wss://` (trusting the fixture CA) instead of `ws://`. */
  tls?: boolean;
  /** The WebSocket key the SDK is given (it sends its MD5). */
  key?: string;
}

/** The SDK, running; always {@link close} it. */
export class SdkProcess {
  readonly lines: SdkLine[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<void>;
  #waiters: (() => void)[] = [];
  #nextId = 1;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#done = this.#read();
  }

  /** Starts the SDK against 127.0.0.1:`port`. */
  static start(options: SdkStartOptions): SdkProcess {
    const args = [
      "run",
      "--quiet",
      "--lock=deno.dev.lock",
      "--allow-net=127.0.0.1",
      ...(options.tls ? ["--cert", TLS_FIXTURES.ca] : []),
      DRIVER,
      "127.0.0.1",
      String(options.port),
      options.tls ? "wss" : "ws",
      ...(options.key === undefined ? [] : [options.key]),
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    return new SdkProcess(child);
  }

  async #read(): Promise<void> {
    let pending = "";
    for await (
      const text of this.#child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        this.lines.push(JSON.parse(pending.slice(0, newline)));
        pending = pending.slice(newline + 1);
        for (const wake of this.#waiters.splice(0)) wake();
      }
    }
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /**
   * The first line (from index `from` on) for which `match` holds; rejects
   * after `timeoutMs` with every line seen.
   */
  async next(
    match: (line: SdkLine) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<SdkLine> {
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    for (;;) {
      const found = this.lines.slice(options.from ?? 0).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `the SDK did not say it; it said:\n${
            this.lines.map((l) => JSON.stringify(l)).join("\n")
          }`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Calls a protocol through the SDK; resolves with its result line. */
  async call(
    call: "GetGlobalState" | "KeepAlive" | "Verification",
    args?: Record<string, unknown>,
  ): Promise<SdkLine> {
    const id = this.#nextId++;
    await this.#send({ id, call, args });
    return await this.next((l) => l.event === "result" && l.id === id);
  }

  async #send(command: Record<string, unknown>): Promise<void> {
    await this.#stdin.write(
      new TextEncoder().encode(`${JSON.stringify(command)}\n`),
    );
  }

  /** Closes the SDK's socket and ends the process. */
  async close(): Promise<void> {
    try {
      await this.#send({ call: "exit" });
      await this.#stdin.close();
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill();
      } catch { /* exited meanwhile */ }
    }, 5000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#done;
  }
}
