/**
 * The local lab: N SSH nodes on this machine (network namespaces on a bridge, a real sshd each), brought up with
 * `deno task lab up --nodes N`, used with `--inventory lab`. (QEMU guests as nodes have their own face:
 * `./guests_mod.ts`.)
 * @module
 */
export {
  killSshd,
  LAB_HOME,
  LAB_USER,
  labDown,
  type LabNode,
  type LabNodeStatus,
  type LabOptions,
  type LabState,
  labStatus,
  labUp,
  readLabState,
  requireRoot,
  startSshd,
} from "./lab_nodes.ts";
