/**
 * Loopback TCP ports for guest port forwards: pick free ones, or check that a requested one is free.
 * @module
 */
import { InputError } from "../core/errors.ts";

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** True when `port` can be bound on 127.0.0.1 now. */
export function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Throws InputError naming `field` when the requested port is already in use. */
export function assertPortFree(port: number, field: string): void {
  if (!portIsFree(port)) {
    throw new InputError(field, "a free TCP port on 127.0.0.1 (this one is in use)", port, {
      hint: "leave it unset to have a free port picked",
    });
  }
}
