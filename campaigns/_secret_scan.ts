/**
 * Searches text for known secrets and reports where each was found, with
 * the secret itself masked, so a report never repeats what it caught.
 * @module
 */

/** A secret to look for. */
export interface Needle {
  /** What it is, as reports name it ("password", "phone code", ...). */
  readonly label: string;
  /** Its text. */
  readonly text: string;
}

/** A secret found in an output. */
export interface SecretHit {
  /** Where: which output of which program. */
  readonly source: string;
  /** Which secret. */
  readonly label: string;
  /** The text around it, the secret masked. */
  readonly excerpt: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A scanner for `needles`. Digits-only secrets (codes) match only where no
 * digit touches them, so a timestamp that happens to contain a code's
 * digits is not a hit.
 */
export class SecretScanner {
  readonly #needles: readonly { label: string; re: RegExp; text: string }[];
  /** Every hit so far. */
  readonly hits: SecretHit[] = [];
  /** Sources scanned. */
  sources = 0;
  /** Their total size in characters. */
  chars = 0;

  /** For these needles (empty texts are ignored). */
  constructor(needles: readonly Needle[]) {
    this.#needles = needles.filter((n) => n.text.length > 0).map((n) => ({
      label: n.label,
      text: n.text,
      re: new RegExp(
        /^\d+$/.test(n.text)
          ? `(?<!\\d)${escape(n.text)}(?!\\d)`
          : escape(n.text),
        "g",
      ),
    }));
  }

  /** Scans one output. */
  scan(source: string, text: string): void {
    this.sources++;
    this.chars += text.length;
    for (const n of this.#needles) {
      for (const m of text.matchAll(n.re)) {
        const from = Math.max(0, m.index - 60);
        let excerpt = text.slice(from, m.index + n.text.length + 60);
        for (const other of this.#needles) {
          excerpt = excerpt.replaceAll(other.text, `<${other.label}>`);
        }
        this.hits.push({
          source,
          label: n.label,
          excerpt: excerpt.replace(/\s+/g, " "),
        });
        break;
      }
    }
  }

  /** Scans a value as every way it can be shown: inspect, JSON, String, its error causes. */
  scanValue(source: string, value: unknown, depth = 6): void {
    this.scan(
      `${source} (inspect)`,
      Deno.inspect(value, {
        depth,
        colors: false,
        iterableLimit: 1000,
        strAbbreviateSize: 10_000,
        getters: false,
        showHidden: false,
      }),
    );
    let json: string | undefined;
    try {
      json = JSON.stringify(
        value,
        (_k, v) => typeof v === "bigint" ? String(v) : v,
      );
    } catch {
      json = undefined; // Circular structures have no JSON form.
    }
    if (json !== undefined) this.scan(`${source} (JSON)`, json);
    if (value instanceof Error) {
      this.scan(
        `${source} (message)`,
        `${value.message}\n${value.stack ?? ""}`,
      );
      const seen = new Set<unknown>([value]);
      let cause: unknown = value.cause;
      for (let depth = 1; cause !== undefined && !seen.has(cause); depth++) {
        seen.add(cause);
        this.scanValue(`${source} cause ${depth}`, cause);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
    } else if (value !== null && typeof value === "object") {
      try {
        this.scan(`${source} (String)`, String(value));
      } catch {
        // An object without a string form shows nothing that way.
      }
    }
  }
}
