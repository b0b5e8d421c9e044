/**
 * Typed wrappers of the `xl` commands playbooks need. Changing commands (create, destroy, vcpu-pin, vcpu-set) go
 * through `effect`, so `--dry-run` lists the exact command lines. Commands run through a `CommandRunner`: locally by
 * default; pass one that runs over SSH to drive a remote dom0 (e.g. the Xen lab host).
 * @module
 */
import { join } from "node:path";
import { effect } from "../core/ambient.ts";
import { HyperlabError, InputError, MissingError } from "../core/errors.ts";
import { parseCpuList } from "./cpumap.ts";
import type { XlConfig } from "./xl_config.ts";
import { writeXlConfig } from "./xl_config_text.ts";
import { parseXlInfo, parseXlList, parseXlVcpuList } from "./xl_output.ts";
import type { XlInfo, XlListRow, XlVcpuRow } from "./xl_output.ts";

/** Result of one command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` somewhere and returns its exit code and output. */
export type CommandRunner = (argv: string[], opts?: { stdin?: string }) => Promise<CommandResult>;

/** Runs commands on this machine. */
export const localRunner: CommandRunner = async (argv, opts) => {
  try {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: opts?.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (opts?.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingError(
        `${argv[0]} not found on this machine`,
        "xl needs a Xen dom0 (Debian package xen-utils-4.17)",
      );
    }
    throw e;
  }
};

/** A domain given by name or id. */
export type DomainRef = string | number;

function domainArg(d: unknown): string {
  if (typeof d === "number" && Number.isInteger(d) && d >= 0 && d <= 0x7fef) return String(d);
  if (typeof d === "string" && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(d)) return d;
  throw new InputError("domain", "a domain name (letters, digits, _ . -) or id 0..32751", d);
}

/** The xl toolstack on one host. */
export class Xl {
  /** Where commands run (for plans and messages), e.g. `localhost` or a node name. */
  readonly target: string;
  readonly #run: CommandRunner;
  readonly #xl: string;

  constructor(opts: { run?: CommandRunner; target?: string; xlPath?: string } = {}) {
    this.#run = opts.run ?? localRunner;
    this.target = opts.target ?? "localhost";
    this.#xl = opts.xlPath ?? "xl";
  }

  async #exec(args: string[], stdin?: string): Promise<string> {
    const r = await this.#run([this.#xl, ...args], stdin === undefined ? undefined : { stdin });
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split("\n").slice(-4).join("\n");
      throw new HyperlabError("command", `${this.target}: xl ${args.join(" ")} exited ${r.code}: ${tail}`);
    }
    return r.stdout;
  }

  #change<T>(args: string[], dry: () => T, stdin?: string, note = ""): Promise<T> {
    return effect(
      { kind: "xl", target: this.target, action: `xl ${args.join(" ")}${note}` },
      async () => {
        await this.#exec(args, stdin);
        return dry();
      },
      dry,
    );
  }

  /** `xl list`: running domains. */
  async list(): Promise<XlListRow[]> {
    return parseXlList(await this.#exec(["list"]));
  }

  /** `xl info`: host and hypervisor facts. */
  async info(): Promise<XlInfo> {
    return parseXlInfo(await this.#exec(["info"]));
  }

  /** `xl vcpu-list [domain]`. */
  async vcpuList(domain?: DomainRef): Promise<XlVcpuRow[]> {
    return parseXlVcpuList(await this.#exec(domain === undefined ? ["vcpu-list"] : ["vcpu-list", domainArg(domain)]));
  }

  /** Domain id of a running domain by name, or undefined. */
  async domid(name: string): Promise<number | undefined> {
    domainArg(name);
    return (await this.list()).find((d) => d.name === name)?.id;
  }

  /**
   * `xl create`: from a config object (written to `dir`/<name>.cfg on the target through the runner, with `tee`)
   * or from a config file path already on the target.
   */
  async create(config: XlConfig | string, opts: { paused?: boolean; dir?: string } = {}): Promise<void> {
    const flags = opts.paused ? ["-p"] : [];
    if (typeof config === "string") {
      if (!config) throw new InputError("config", "an xl config object or a config file path", config);
      await this.#change(["create", ...flags, config], () => undefined);
      return;
    }
    const text = writeXlConfig(config);
    const path = join(opts.dir ?? "/tmp", `${config.name}.cfg`);
    await effect(
      { kind: "file", target: this.target, action: `write ${path}:\n${text}` },
      async () => {
        const r = await this.#run(["tee", path], { stdin: text });
        if (r.code !== 0) {
          throw new HyperlabError("command", `${this.target}: cannot write ${path}: ${r.stderr.trim()}`);
        }
      },
      () => undefined,
    );
    await this.#change(["create", ...flags, path], () => undefined);
  }

  /** `xl destroy <domain>`. */
  async destroy(domain: DomainRef): Promise<void> {
    await this.#change(["destroy", domainArg(domain)], () => undefined);
  }

  /** `xl vcpu-pin <domain> <vcpu|all> <cpus> [soft]`. */
  async vcpuPin(domain: DomainRef, vcpu: number | "all", hard: string, soft?: string): Promise<void> {
    if (vcpu !== "all" && (!Number.isInteger(vcpu) || vcpu < 0)) {
      throw new InputError("vcpu", "a vCPU number or all", vcpu);
    }
    for (const [field, v] of [["hard", hard], ["soft", soft]] as const) {
      if (v !== undefined && v !== "all" && !/^node:\d+$/.test(v)) parseCpuList(v, field);
    }
    const args = ["vcpu-pin", domainArg(domain), String(vcpu), hard, ...(soft ? [soft] : [])];
    await this.#change(args, () => undefined);
  }

  /** `xl vcpu-set <domain> <count>`: sets the number of online vCPUs. */
  async vcpuSet(domain: DomainRef, count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 1) throw new InputError("count", "a vCPU count >= 1", count);
    await this.#change(["vcpu-set", domainArg(domain), String(count)], () => undefined);
  }
}
