/** Resolved inventory types: what the rest of hyperlab sees after validation and defaults. */

/** A jump host as resolved (inline or another node's address). */
export interface JumpHost {
  /** Name of the jump node, or `host:port` for an inline one. */
  name: string;
  host: string;
  port: number;
  user: string;
  key?: string;
  /** The jump host's own jump, when it is a node that has one. */
  jump?: JumpHost;
}

/** A node's IPMI endpoint. The password value is never here: see `Inventory.ipmiPassword`. */
export interface IpmiEndpoint {
  host: string;
  port: number;
  user: string;
  interface: "lan" | "lanplus";
  cipherSuite: number;
  /** Where the password comes from (for records): `env:NAME` or `file:/path`. */
  passwordFrom: string;
}

/** One node, validated, with defaults applied. Safe to log and store: it holds no secret values. */
export interface NodeSpec {
  name: string;
  host: string;
  port: number;
  user: string;
  /** Absolute path of the private key, when one is configured. */
  key?: string;
  /** Position in node order; 0 is the origin. */
  index: number;
  roles: string[];
  tags: string[];
  vars: Record<string, unknown>;
  jump?: JumpHost;
  ipmi?: IpmiEndpoint;
  /** The controller's own machine: lib calls run in-process. */
  local: boolean;
  /** known_hosts file that verifies this node's host key. */
  knownHosts?: string;
}
