/**
 * POSIX shell quoting and command-line building. Commands given as argv arrays are quoted so every element reaches
 * the program as one literal argument: no parameter can inject shell syntax. `{ cmd }` is an explicit shell script.
 * @module
 */
import { InputError } from "../core/errors.ts";

/** A command: an argv array (quoted for you) or `{ cmd }`, a shell script run by /bin/sh as written. */
export type Command = readonly string[] | { readonly cmd: string };

/** Options that shape the command line. */
export interface CommandLineOptions {
  /** Environment variables set for the command. Names must be valid shell identifiers. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Run as root through `sudo -n` (fails instead of prompting). */
  sudo?: boolean;
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell: `it's` → `'it'\''s'`. Plain words stay as they are. */
export function shQuote(word: string): string {
  if (typeof word !== "string") throw new InputError("argv element", "a string", word);
  if (word.includes("\0")) throw new InputError("argv element", "a string without NUL bytes", word);
  if (word !== "" && SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Joins argv into one shell-safe command line. */
export function argvToShell(argv: readonly string[]): string {
  if (!Array.isArray(argv) || argv.length === 0) throw new InputError("command", "a non-empty argv array", argv);
  return argv.map(shQuote).join(" ");
}

/** The shell script a Command stands for (argv quoted, `{cmd}` verbatim). */
export function commandScript(command: Command): string {
  if (Array.isArray(command)) return argvToShell(command);
  const c = command as { cmd?: unknown };
  if (typeof c?.cmd !== "string" || c.cmd.trim() === "") {
    throw new InputError("command", "an argv array or { cmd: string } with a non-empty script", command);
  }
  if (c.cmd.includes("\0")) throw new InputError("command.cmd", "a script without NUL bytes", c.cmd);
  return c.cmd;
}

/** The script for a command with its environment exports and `cd` (what `/bin/sh -c` runs). */
export function buildScript(command: Command, opts: CommandLineOptions = {}): string {
  let script = commandScript(command);
  const pre: string[] = [];
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new InputError(`env.${k}`, "a shell variable name ([A-Za-z_][A-Za-z0-9_]*)", k);
    }
    if (typeof v !== "string") throw new InputError(`env.${k}`, "a string value", v);
    pre.push(`export ${k}=${shQuote(v)}`);
  }
  if (opts.cwd !== undefined) {
    if (typeof opts.cwd !== "string" || opts.cwd === "") throw new InputError("cwd", "a directory path", opts.cwd);
    pre.push(`cd -- ${shQuote(opts.cwd)}`);
  }
  if (pre.length) script = `${pre.join(" && ")} && ${script}`;
  return script;
}

/**
 * The full command line for a command: its script (see buildScript) run by `/bin/sh -c` (under `sudo -n` when
 * asked). The result is one shell word-list for the remote login shell.
 */
export function buildCommandLine(command: Command, opts: CommandLineOptions = {}): string {
  const sh = `/bin/sh -c ${shQuote(buildScript(command, opts))}`;
  return opts.sudo ? `sudo -n -- ${sh}` : sh;
}
