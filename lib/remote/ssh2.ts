/** The ssh2 client with its type declarations (npm:@types/ssh2); the one place that imports ssh2. */
// @deno-types="npm:@types/ssh2@^1.15.5"
export { Client, utils } from "ssh2";
// @deno-types="npm:@types/ssh2@^1.15.5"
export type { ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
