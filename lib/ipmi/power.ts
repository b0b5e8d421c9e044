/**
 * Chassis power of a node through its BMC: `status`, `on`, `off`, `cycle`, and serial-over-LAN console capture.
 * Side effects go through `effect`, so `--dry-run` plans `{kind: "ipmi", target: node, action}` instead.
 * @module
 */
import { effect } from "../core/ambient.ts";
import { InputError } from "../core/errors.ts";
import { type BmcTarget, describeIpmitool, IpmiError, ipmitool } from "./ipmitool.ts";
import { captureSol, type SolCaptureOptions } from "./sol.ts";

/** Power state as the BMC reports it. */
export type PowerState = "on" | "off";

/** Power and console control of one node. */
export class NodePower {
  readonly #target: () => BmcTarget;
  readonly node: string;

  /** `target` is resolved lazily, so nodes without IPMI fail only when power is used. */
  constructor(node: string, target: () => BmcTarget) {
    this.node = node;
    this.#target = target;
  }

  /** Current chassis power. */
  async status(): Promise<PowerState> {
    const out = await ipmitool(this.#target(), ["chassis", "power", "status"]);
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (!m) throw new IpmiError(this.node, "chassis power status", `unexpected answer ${JSON.stringify(out.trim())}`);
    return m[1].toLowerCase() as PowerState;
  }

  #control(action: "on" | "off" | "cycle" | "reset"): Promise<void> {
    const t = this.#target();
    const args = ["chassis", "power", action];
    return effect(
      { kind: "ipmi", target: this.node, action: describeIpmitool(t, args) },
      async () => void await ipmitool(t, args),
      () => undefined,
    );
  }

  /** Powers on. */
  on(): Promise<void> {
    return this.#control("on");
  }

  /** Powers off (hard). */
  off(): Promise<void> {
    return this.#control("off");
  }

  /** Power cycle: off, then on after the BMC's interval. */
  cycle(): Promise<void> {
    return this.#control("cycle");
  }

  /** Captures the serial console over LAN (see SolCaptureOptions). */
  console(opts: SolCaptureOptions): Promise<string> {
    if (!(opts?.durationMs > 0)) {
      throw new InputError("durationMs", "a positive number of milliseconds", opts?.durationMs);
    }
    const t = this.#target();
    return effect(
      { kind: "ipmi", target: this.node, action: describeIpmitool(t, ["sol", "activate"]) },
      () => captureSol(t, opts),
      () => "",
    );
  }
}
