/**
 * Quotas of the embedded xenstored, with xenstored 4.17's defaults. Quotas bind unprivileged domains only
 * (dom0 is exempt, as in xenstored); the wire limits (payload 4096 bytes, path 3072) bind everyone.
 * @module
 */

/** Quotas applied to unprivileged domains. */
export interface XsLimits {
  /** Longest value in bytes (xenstored `-S`, default 2048). */
  maxEntrySize: number;
  /** Nodes a domain may own (`-E`, default 1000). */
  maxNodesPerDomain: number;
  /** Watches per domain (`-W`, default 128). */
  maxWatchesPerDomain: number;
  /** Open transactions per domain (`-t`, default 10). */
  maxTransactionsPerDomain: number;
  /** Longest path below the domain home (`XENSTORE_REL_PATH_MAX`, 2048). */
  maxRelPathLen: number;
}

/** xenstored's defaults. */
export const DEFAULT_LIMITS: Readonly<XsLimits> = Object.freeze({
  maxEntrySize: 2048,
  maxNodesPerDomain: 1000,
  maxWatchesPerDomain: 128,
  maxTransactionsPerDomain: 10,
  maxRelPathLen: 2048,
});
