/**
 * A Cluster: the RemoteNodes of an inventory with fan-out helpers. Inside a run, closing is deferred to the end of
 * the run automatically.
 * @module
 */
import { currentRun } from "../core/ambient.ts";
import { InputError } from "../core/errors.ts";
import type { Inventory } from "../inventory/mod.ts";
import type { ConnectionOptions } from "./connection.ts";
import type { CommandResult } from "./exec.ts";
import { fanout, type FanoutOptions, type FanoutResult, runOnAll } from "./fanout.ts";
import { type NodeRunOptions, RemoteNode } from "./node.ts";
import type { Command } from "./quote.ts";

/** Nodes of an inventory, connected lazily (on first use), one persistent connection each. */
export class Cluster implements Disposable, AsyncDisposable {
  readonly inventory: Inventory;
  /** Nodes in inventory order (origin first). */
  readonly nodes: readonly RemoteNode[];

  constructor(inventory: Inventory, options: ConnectionOptions = {}) {
    this.inventory = inventory;
    this.nodes = inventory.nodes.map((spec) => new RemoteNode(spec, options, (n) => inventory.ipmiPassword(n)));
  }

  /** The node called `name`. */
  node(name: string): RemoteNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new InputError("node", `one of ${this.nodes.map((x) => x.name).join(", ")}`, name);
    return n;
  }

  /** The first node (origin). */
  get origin(): RemoteNode {
    return this.nodes[0];
  }

  /** Nodes selected by a `--limit` expression or a list of names, in inventory order. */
  select(which: string | readonly string[]): RemoteNode[] {
    const names = typeof which === "string"
      ? new Set(this.inventory.limit(which).nodes.map((n) => n.name))
      : new Set(which.map((n) => this.node(n).name));
    return this.nodes.filter((n) => names.has(n.name));
  }

  /** Runs a command on every node (or `opts.on`: names or a limit expression); per-node results. */
  run(
    command: Command,
    opts: NodeRunOptions & FanoutOptions & { on?: string | readonly string[] } = {},
  ): Promise<FanoutResult<CommandResult>> {
    const { on, ...rest } = opts;
    return runOnAll(on === undefined ? this.nodes : this.select(on), command, rest);
  }

  /** Runs any per-node operation on every node (or `opts.on`). */
  each<T>(
    op: (node: RemoteNode, signal: AbortSignal) => Promise<T>,
    opts: FanoutOptions & { on?: string | readonly string[] } = {},
  ): Promise<FanoutResult<T>> {
    const { on, ...rest } = opts;
    return fanout(on === undefined ? this.nodes : this.select(on), op, rest);
  }

  /** Opens every connection now (cold start measured separately from commands). */
  connectAll(opts: FanoutOptions = {}): Promise<FanoutResult<void>> {
    return fanout(this.nodes, (n, s) => n.connect(s), opts);
  }

  /** Closes every connection at once. Idempotent. */
  close(): void {
    for (const n of this.nodes) n.close();
  }

  /** Kills commands still running on every node (their process groups), then closes every connection. */
  async shutdown(timeoutMs = 5_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.shutdown(timeoutMs)));
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Creates a Cluster for an inventory. Inside a run, commands still running when the run ends (failure, step
 * timeout, Ctrl-C) are killed on their nodes and the connections closed.
 * Unknown host keys are refused unless `hostKeys: "accept-new"` is passed (then logged and recorded).
 */
export function connectCluster(inventory: Inventory, options: ConnectionOptions = {}): Cluster {
  const c = new Cluster(inventory, options);
  const run = currentRun();
  if (run) {
    if (options.hostKeys === "accept-new") run.log.warn("host keys: unknown keys will be accepted (accept-new)");
    run.defer(() => c.shutdown());
  }
  return c;
}
