/**
 * Secret redaction: values registered as secret are replaced by `***` in everything a run records or prints.
 * @module
 */

/** Holds secret strings and masks them in text. */
export class Redactor {
  #secrets = new Set<string>();

  /** Registers a secret; strings shorter than 3 characters are ignored (they would mask too much). */
  add(secret: string | undefined | null): void {
    if (secret && secret.length >= 3) this.#secrets.add(secret);
  }

  /** True when no secret is registered. */
  get empty(): boolean {
    return this.#secrets.size === 0;
  }

  /** Masks every registered secret in `text`. */
  text(text: string): string {
    if (this.#secrets.size === 0) return text;
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join("***");
    return out;
  }

  /** Masks secrets in every string inside a JSON-like value. */
  value<T>(v: T): T {
    if (this.#secrets.size === 0) return v;
    return JSON.parse(this.text(JSON.stringify(v)));
  }
}
