/**
 * IPMI: chassis power (`node.power.status/on/off/cycle`) and serial-over-LAN console capture through ipmitool,
 * and a BMC simulator (OpenIPMI's ipmi_sim on loopback) for the lab and tests.
 * @module
 */
export { type BmcTarget, describeIpmitool, IpmiError, ipmitool } from "./ipmitool.ts";
export { NodePower, type PowerState } from "./power.ts";
export { type BmcMachine, BmcSimulator, consoleWriter, type SimulatedBmc, standInMachine } from "./sim.ts";
export { captureSol, type SolCaptureOptions } from "./sol.ts";
