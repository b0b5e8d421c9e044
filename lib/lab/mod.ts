/**
 * The local lab: N SSH nodes on this machine (network namespaces on a bridge, a real sshd each), brought up with
 * `deno task lab up --nodes N`, used with `--inventory lab`; `--guests M` adds QEMU guests g0…g(M-1) that outlive the
 * command and join the inventory (tag `guest`). (Guests for experiments have their own face: `./guests_mod.ts`.)
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
export { type LabGuest, type LabGuestStatus, MAX_LAB_GUESTS } from "./lab_guests.ts";
