/** Whether a process is alive on this host. */
export { processAlive as pidAlive } from "../core/process.ts";
