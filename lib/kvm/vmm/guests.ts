/** The guests hyperlab builds from ffi/guests/ (make -C ffi guests) and their entry modes. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError, MissingError } from "../../core/errors.ts";
import { FFI_BUILD_DIR, FFI_DIR } from "../../ffi/loader.ts";
import type { CpuMode } from "./modes.ts";

/** Each shipped guest and the mode it is built for. */
export const GUESTS = {
  /** Prints a line on COM1, reports 16, halts. */
  hello16: "real",
  /** Prints a line, reports 32, halts. */
  hello32: "protected",
  /** Prints a line, reports 64, halts. */
  hello64: "long",
  /** Writes one word in every page of param 0 KiB (value param 1 + page), reports the page count, halts. */
  touch: "long",
  /** OUTs param 0 times to the tick port, reports the count, halts. */
  loop: "long",
  /** Asks to be cloned; parent and children report fork's return, index, a checksum and what they then write. */
  fork: "long",
  /** Boot initialises param 0 KiB; fork; reports 1; touches param 1 KiB; reports 2; halts. */
  app: "long",
  /** Forks param 0 times, writing one more page before each fork; each child reports its i and a checksum. */
  forkloop: "long",
} as const satisfies Record<string, CpuMode>;

/** Name of a shipped guest. */
export type GuestName = keyof typeof GUESTS;

/** Directory of the built guest binaries. */
export const GUEST_BUILD_DIR: string = join(FFI_BUILD_DIR, "guests");

const cache = new Map<GuestName, Uint8Array>();

/** The flat binary of a shipped guest, building the guests with make on first use. */
export function guestImage(name: GuestName): Uint8Array {
  if (!(name in GUESTS)) throw new InputError("guest", `one of ${Object.keys(GUESTS).join(", ")}`, name);
  const have = cache.get(name);
  if (have) return have;
  const path = join(GUEST_BUILD_DIR, `${name}.bin`);
  if (!existsSync(path)) {
    const out = new Deno.Command("make", { args: ["-s", "-C", FFI_DIR, "guests"], stdout: "piped", stderr: "piped" })
      .outputSync();
    if (!out.success || !existsSync(path)) {
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-6).join("\n");
      throw new MissingError(`guest ${name} could not be built (make -C ffi guests)`, text || "needs gcc and objcopy");
    }
  }
  const img = readFileSync(path);
  cache.set(name, img);
  return img;
}
