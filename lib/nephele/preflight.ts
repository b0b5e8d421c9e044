/**
 * Is this node a dom0 that can clone? Checks, on the node: `xl` and `xenstore-read` on PATH, /dev/xen/privcmd,
 * the clone command in `xl help` (stock Xen has none: the clone hypercall is Nephele's), xencloned, and what kind
 * of interface the vif bridge is (cloned vifs on a Linux bridge fail with -ENOTSUP and the parent hangs).
 * @module
 */
import { InputError, MissingError } from "../core/errors.ts";
import { shQuote } from "../remote/mod.ts";

/** What the node has. */
export interface XenFacts {
  xl: boolean;
  xenstore: boolean;
  privcmd: boolean;
  /** `xl help` lists `clone` (undefined when xl is absent). */
  clone?: boolean;
  xencloned: boolean;
  /** `linux` (a Linux bridge), `other` (e.g. an Open vSwitch bridge), `absent`. */
  bridge: "linux" | "other" | "absent";
}

/** The probe script (prints `key value` lines). */
export function preflightScript(xencloned: string, bridge: string): string {
  const b = shQuote(bridge);
  return [
    `for c in xl xenstore-read; do if command -v $c >/dev/null 2>&1; then echo "$c yes"; else echo "$c no"; fi; done`,
    `if [ -e /dev/xen/privcmd ]; then echo "privcmd yes"; else echo "privcmd no"; fi`,
    `if [ -x ${shQuote(xencloned)} ]; then echo "xencloned yes"; else echo "xencloned no"; fi`,
    `if command -v xl >/dev/null 2>&1; then if xl help 2>&1 | grep -Eq '^[[:space:]]*clone([[:space:]]|$)'; ` +
    `then echo "clone yes"; else echo "clone no"; fi; fi`,
    `if [ -d /sys/class/net/${b}/bridge ]; then echo "bridge linux"; elif [ -e /sys/class/net/${b} ]; ` +
    `then echo "bridge other"; else echo "bridge absent"; fi`,
  ].join("; ");
}

/** Parses the probe's output. */
export function parsePreflight(text: string): XenFacts {
  const kv = new Map(text.split("\n").map((l) => l.trim().split(/\s+/, 2) as [string, string]));
  const yes = (k: string) => kv.get(k) === "yes";
  const bridge = kv.get("bridge");
  return {
    xl: yes("xl"),
    xenstore: yes("xenstore-read"),
    privcmd: yes("privcmd"),
    clone: kv.has("clone") ? yes("clone") : undefined,
    xencloned: yes("xencloned"),
    bridge: bridge === "linux" || bridge === "other" ? bridge : "absent",
  };
}

/**
 * Throws MissingError naming everything missing (no Xen at all; a Xen without the clone hypercall; no
 * xencloned), or InputError when the vif bridge cannot carry cloned vifs.
 */
export function requireCloningXen(
  facts: XenFacts,
  node: string,
  p: { xencloned: string; bridge: string; noNetwork: boolean; skipCloning: readonly string[] },
): void {
  const noXen: string[] = [];
  if (!facts.xl) noXen.push("xl (xen-utils)");
  if (!facts.xenstore) noXen.push("xenstore-read (xenstore-utils)");
  if (!facts.privcmd) noXen.push("/dev/xen/privcmd (not running as a Xen dom0)");
  if (noXen.length) {
    throw new MissingError(
      `${node} is not a Xen dom0 that Nephele can use: missing ${noXen.join(", ")}`,
      "run it on a Xen host booted with Nephele's hypervisor (nephele-vm/xen, tag eurosys23)",
    );
  }
  const rest: string[] = [];
  if (facts.clone === false) {
    rest.push("the clone hypercall: `xl help` lists no `clone` command (stock Xen; Nephele's patched Xen is needed)");
  }
  if (!facts.xencloned) rest.push(`xencloned at ${p.xencloned} (nephele-vm/xen tools/xenclone)`);
  if (rest.length) throw new MissingError(`${node} cannot clone VMs: missing ${rest.join("; ")}`);
  if (!p.noNetwork && !p.skipCloning.includes("network")) {
    if (facts.bridge === "absent") {
      throw new InputError("--bridge", `a bridge that exists on ${node}`, p.bridge);
    }
    if (facts.bridge === "linux") {
      throw new InputError(
        "--bridge",
        "an Open vSwitch bridge (cloned vifs on a Linux bridge fail with -ENOTSUP and the parent hangs), " +
          "or --skip-cloning network, or --no-network",
        p.bridge,
      );
    }
  }
}
