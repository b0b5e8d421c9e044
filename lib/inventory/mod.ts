/**
 * Inventories: which nodes an experiment uses, how to reach them, in which order. Load one with
 * `loadInventory("lab.yaml", "compute,!n3")`; pass `inventory.toRecord()` and `inventory.secrets()` to
 * `runPlaybook` (`inventory`, `secrets` options).
 * @module
 */
export { defineInventory, LAB_INVENTORY_PATH, loadInventory, parseInventoryYaml } from "./load.ts";
export { buildInventory, Inventory } from "./inventory.ts";
export { applyLimit } from "./limit.ts";
export { NAME_PATTERN, type SecretRef } from "./schema.ts";
export type { IpmiEndpoint, JumpHost, NodeSpec } from "./types.ts";
