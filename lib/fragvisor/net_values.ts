/** Zod pieces for the values FragVisor parameters are made of: absolute paths, IPv4 and MAC addresses, names. */
import { z } from "zod";

/** An IPv4 address in dotted-quad form. */
export const IPV4_PATTERN: RegExp = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True when `s` is a dotted-quad IPv4 address. */
export function isIpv4(s: unknown): s is string {
  return typeof s === "string" && IPV4_PATTERN.test(s);
}

/** An IPv4 address. */
export const ipv4 = (): z.ZodString => z.string().regex(IPV4_PATTERN, "an IPv4 address like 10.4.4.222");

/** A MAC address `aa:bb:cc:dd:ee:ff`. */
export const mac = (): z.ZodString =>
  z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "a MAC address like 00:11:22:33:44:55");

/**
 * An absolute path without shell-special characters (remote nodes need absolute paths; the seed scripts break on
 * relative ones).
 */
export const absPath = (): z.ZodString =>
  z.string().regex(/^\/[A-Za-z0-9._/+@-]*$/, "an absolute path (starting with /, letters, digits, . _ - + @ /)");

/** A network interface name (tap0, br0). */
export const ifName = (): z.ZodString =>
  z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, "an interface name of 1-15 letters, digits, . _ -");
