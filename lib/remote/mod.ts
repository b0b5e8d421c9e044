/**
 * Remote execution: one persistent SSH connection per node (npm:ssh2, no-delay socket, keepalives, reconnect),
 * `node.run(argv | {cmd})` with safe quoting, fan-out with per-node results and a failure policy, SFTP transfer
 * with sha256 checks, `waitFor`, jump hosts and known_hosts verification.
 *
 * ```ts
 * const inv = await loadInventory("lab");
 * const cluster = connectCluster(inv);
 * const r = await cluster.run(["uname", "-r"], { timeout: 10_000, continueOnError: true });
 * console.log(r.ok, r.failed);
 * ```
 * @module
 */
export {
  type Agent,
  type AgentCallOptions,
  type AgentResult,
  LocalAgent,
  RemoteAgent,
  type RemoteAgentOptions,
} from "./agent_client.ts";
export { type AgentInstall, ensureAgentInstalled } from "./agent_deploy.ts";
export type { AgentApi, AgentOp } from "./agent_ops.ts";
export { type HostFacts, hostFacts, type NumaNode } from "./host_facts.ts";
export { Cluster, connectCluster } from "./cluster.ts";
export { type ConnectionOptions, type HostKeyPolicy, SshConnection, type SshTarget } from "./connection.ts";
export { CommandError, type RemoteCause, RemoteError, RemoteTimeoutError } from "./errors.ts";
export type { CommandResult } from "./exec.ts";
export { fanout, FanoutError, type FanoutOptions, type FanoutResult, type NodeOutcome, runOnAll } from "./fanout.ts";
export { KnownHosts, knownHostsName, parseKnownHosts } from "./known_hosts.ts";
export { type NodeRunOptions, RemoteNode, targetOf } from "./node.ts";
export { argvToShell, buildCommandLine, type Command, type CommandLineOptions, shQuote } from "./quote.ts";
export { NODE_FAILED_METRIC, NODE_SKIPPED_METRIC, recordNodeOutcome, retryLimit, retryTargets } from "./retry.ts";
export { type Client as SshClient, type ClientChannel, type ConnectConfig, newClient } from "./ssh2.ts";
export { sha256File, type TransferResult } from "./transfer.ts";
export { waitFor, type WaitForOptions } from "./wait_for.ts";
