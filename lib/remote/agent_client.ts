/**
 * Talking to a node agent: `agent.call("kvmFacts", {})` sends a typed request over the SSH exec channel and returns
 * the checked result, or throws the agent's error with its type (MissingError, InputError…) kept. For the local
 * node the same call runs in-process.
 * @module
 */
import { createInterface } from "node:readline";
import { formatError, HyperlabError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { type AgentInstall, ensureAgentInstalled } from "./agent_deploy.ts";
import { type AgentApi, type AgentOp, callOp } from "./agent_ops.ts";
import { HelloSchema, ResponseSchema, RESULT_SCHEMAS } from "./agent_protocol.ts";
import { AGENT_PROTOCOL_VERSION, decodeError, encodeError } from "./agent_wire.ts";
import type { SshConnection } from "./connection.ts";
import { RemoteError, RemoteTimeoutError } from "./errors.ts";
import { openExecChannel } from "./exec.ts";
import { shQuote } from "./quote.ts";
import type { ClientChannel } from "./ssh2.ts";

/** Result type of an operation. */
export type AgentResult<K extends AgentOp> = ReturnType<AgentApi[K]>;

/** Options of one call. */
export interface AgentCallOptions {
  /** Fails after this many ms (default 60 s). */
  timeout?: number;
}

/** An agent, remote or in-process. */
export interface Agent {
  /** Where it runs (node name). */
  readonly node: string;
  /** Calls an operation; resolves with its checked result or throws its typed error. */
  call<K extends AgentOp>(op: K, args: Parameters<AgentApi[K]>[0], opts?: AgentCallOptions): Promise<AgentResult<K>>;
  /** Stops the agent. Idempotent. */
  close(): void;
}

/** The agent of the controller's own machine: calls run in this process. */
export class LocalAgent implements Agent {
  readonly node: string;
  constructor(node: string) {
    this.node = node;
  }
  async call<K extends AgentOp>(op: K, args: Parameters<AgentApi[K]>[0]): Promise<AgentResult<K>> {
    try {
      return await callOp(op, args) as AgentResult<K>;
    } catch (e) {
      // Same shape as a remote error: typed, prefixed with the node.
      throw decodeError(encodeError(e), `node ${this.node} (local agent) ${op}`);
    }
  }
  close(): void {}
}

/** Options of a remote agent. */
export interface RemoteAgentOptions {
  /** Cache directory on the node (default `$HOME/.cache/hyperlab`). */
  cacheDir?: string;
  /** Time to install and start, ms (default 120 s: a first install uploads the Deno executable). */
  startTimeoutMs?: number;
}

/** An agent process on a node, reached over one SSH exec channel. */
export class RemoteAgent implements Agent {
  readonly node: string;
  /** What the install step found or uploaded. */
  install?: AgentInstall;
  readonly #conn: SshConnection;
  readonly #opts: RemoteAgentOptions;
  #channel?: ClientChannel;
  #starting?: Promise<ClientChannel>;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #stderrTail = "";

  constructor(conn: SshConnection, opts: RemoteAgentOptions = {}) {
    this.node = conn.target.name;
    this.#conn = conn;
    this.#opts = opts;
  }

  #fail(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#channel = undefined;
  }

  async #start(): Promise<ClientChannel> {
    const timeout = this.#opts.startTimeoutMs ?? 120_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new RemoteTimeoutError(this.node, "starting the agent", timeout, this.#stderrTail)),
        timeout,
      );
    });
    try {
      return await Promise.race([this.#startInner(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #startInner(): Promise<ClientChannel> {
    const inst = this.install = await ensureAgentInstalled(this.#conn, this.#opts.cacheDir);
    const script = `cd ${shQuote(inst.sourceDir)} && DENO_DIR=${shQuote(inst.cacheDir + "/deno-dir")} NO_COLOR=1 exec ${
      shQuote(inst.deno)
    } run --no-config --no-lock --no-prompt --allow-all --quiet lib/remote/agent_main.ts`;
    let hello!: (v: unknown) => void;
    let helloFail!: (e: Error) => void;
    const greeted = new Promise<unknown>((res, rej) => (hello = res, helloFail = rej));
    let greetedYet = false;
    const ch = await openExecChannel(this.#conn, `/bin/sh -c ${shQuote(script)}`, undefined, (ch) => {
      ch.stderr.on(
        "data",
        (d: Uint8Array) => this.#stderrTail = (this.#stderrTail + new TextDecoder().decode(d)).slice(-2000),
      );
      const rl = createInterface({ input: ch, crlfDelay: Infinity });
      rl.on("line", (line: string) => {
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          this.#stderrTail = (this.#stderrTail + `\n(stdout) ${line}`).slice(-2000);
          return;
        }
        if (!greetedYet) {
          greetedYet = true;
          return hello(msg);
        }
        this.#onResponse(msg);
      });
      ch.on("close", () => {
        const err = new RemoteError(
          this.node,
          "agent",
          `agent exited${this.#stderrTail.trim() ? `: ${this.#stderrTail.trim().slice(-600)}` : ""}`,
        );
        if (!greetedYet) helloFail(err);
        this.#fail(err);
      });
    });
    const h = await greeted;
    const parsed = HelloSchema.safeParse(h);
    if (!parsed.success || parsed.data.version !== AGENT_PROTOCOL_VERSION) {
      ch.close();
      throw new RemoteError(
        this.node,
        "agent",
        `unexpected agent greeting ${JSON.stringify(h)} (want protocol ${AGENT_PROTOCOL_VERSION})`,
      );
    }
    this.#channel = ch;
    return ch;
  }

  #onResponse(msg: unknown): void {
    const r = ResponseSchema.safeParse(msg);
    if (!r.success) {
      this.#fail(new RemoteError(this.node, "agent", `malformed agent response: ${JSON.stringify(msg).slice(0, 200)}`));
      this.#channel?.close();
      return;
    }
    const m = r.data;
    if (m.id === null) return;
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(decodeError(m.error, `node ${this.node} (agent)`));
  }

  async call<K extends AgentOp>(
    op: K,
    args: Parameters<AgentApi[K]>[0],
    opts: AgentCallOptions = {},
  ): Promise<AgentResult<K>> {
    if (!this.#channel) {
      this.#starting ??= this.#start().finally(() => this.#starting = undefined);
      await this.#starting;
    }
    const ch = this.#channel;
    if (!ch) throw new RemoteError(this.node, "agent", "agent is not running");
    const id = this.#nextId++;
    const timeout = opts.timeout ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const value = await new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RemoteTimeoutError(this.node, `agent call ${op}`, timeout));
      }, timeout);
      ch.write(JSON.stringify({ id, op, args: args ?? {} }) + "\n");
    }).finally(() => clearTimeout(timer));
    try {
      return parseOrThrow(RESULT_SCHEMAS[op], value, `node ${this.node} agent ${op} result`) as AgentResult<K>;
    } catch (e) {
      throw new HyperlabError("agent", formatError(e));
    }
  }

  close(): void {
    const ch = this.#channel;
    this.#channel = undefined;
    try {
      ch?.end();
    } catch { /* connection gone */ }
  }
}
