/**
 * In-guest watchers: a small POSIX-shell loop, started in the guest before a change, that polls sysfs and prints a
 * marker line on the serial console the moment the guest sees each phase of the change (a new CPU directory, the CPU
 * in nodeN/cpulist, the node's MemTotal grown…). The host times a change from its QMP command to the marker's
 * arrival on the console, so SSH round trips stay out of the measurement. Pure: builds text only.
 * @module
 */

/** One thing the watcher waits for, in order. */
export interface WatchPhase {
  /** Marker word printed when it holds (`[a-z-]+`). */
  name: string;
  /** Shell condition (a command list whose status is 0 when the guest sees it). */
  until: string;
  /** Shell word echoed after the marker (e.g. `$_new`). */
  report?: string;
  /** Shell run once the condition holds, before the next phase (e.g. onlining the new CPU, as udev would). */
  then?: string;
}

/** Options of a watcher. */
export interface WatchOptions {
  /** Polling interval, ms. */
  pollMs: number;
  /** The guest gives up after this many polls (printing `<tag> timeout <phase>`). */
  maxPolls: number;
  /** sysfs root (tests point it at a fake tree). */
  sys?: string;
  /** Source the helpers from this guest file (written once with {@link installPreludeCommand}) instead of inlining. */
  preludeFile?: string;
}

/** The guest file watchers source their helpers from. */
export const PRELUDE_FILE = "/run/hyperlab-vf-watch.sh";

/** Shell that writes {@link watchPrelude} to `file` in the guest. */
export function installPreludeCommand(file = PRELUDE_FILE, sys = "/sys"): string {
  return `cat > ${file} <<'HL_VF_EOF'\n${watchPrelude(sys)}\nHL_VF_EOF`;
}

/**
 * Shell helpers every watcher has (sysfs attributes are read with cat/sed: busybox ash's `read` builtin gets nothing
 * from them): `inlist CPU FILE` (CPU in a Linux CPU list file such as nodeN/cpulist),
 * `memkib NODE` (sets `_m` to nodeN's MemTotal in KiB), `newcpu` (sets `_new` to a cpuN directory that was not
 * there when the watcher started; `_before` holds those).
 */
export function watchPrelude(sys = "/sys"): string {
  return `S=${sys}
inlist() {
  _l=$(cat "$2" 2>/dev/null)
  _o=$IFS; IFS=,
  for _r in $_l; do
    IFS=$_o
    if [ "$1" -ge "\${_r%-*}" ] && [ "$1" -le "\${_r#*-}" ]; then return 0; fi
  done
  IFS=$_o; return 1
}
memkib() {
  _m=$(sed -n "s/.*MemTotal: *\\([0-9]*\\).*/\\1/p" "$S/devices/system/node/node$1/meminfo" 2>/dev/null)
  [ -n "$_m" ]
}
newcpu() {
  _new=
  for _c in "$S"/devices/system/cpu/cpu[0-9]*; do
    case "$_before" in *" \${_c##*/} "*) ;; *) _new=\${_c##*/}; return 0 ;; esac
  done
  return 1
}
_before=" "
for _c in "$S"/devices/system/cpu/cpu[0-9]*; do _before="$_before\${_c##*/} "; done`;
}

const NAME = /^[a-z][a-z-]*$/;
const TAG = /^[A-Za-z0-9_.-]+$/;

/**
 * The watcher for `tag`: prints `<tag> armed`, then `<tag> <phase> <report>` as each phase holds, then
 * `<tag> done`; or `<tag> timeout <phase>` after `maxPolls` polls of one phase.
 */
export function watchScript(tag: string, phases: WatchPhase[], o: WatchOptions): string {
  if (!TAG.test(tag)) throw new TypeError(`watch tag must match ${TAG}, got ${JSON.stringify(tag)}`);
  const sleep = (Math.max(1, o.pollMs) / 1000).toFixed(3);
  const lines = [o.preludeFile ? `. ${o.preludeFile}` : watchPrelude(o.sys), `_t=${tag}`, 'echo "$_t armed"'];
  for (const p of phases) {
    if (!NAME.test(p.name)) throw new TypeError(`watch phase name must match ${NAME}, got ${JSON.stringify(p.name)}`);
    lines.push(
      "_n=0",
      `while ! { ${p.until}; }; do`,
      `  _n=$((_n+1)); if [ $_n -ge ${
        Math.max(1, Math.floor(o.maxPolls))
      } ]; then echo "$_t timeout ${p.name}"; exit 1; fi`,
      `  sleep ${sleep}`,
      "done",
      `echo "$_t ${p.name}${p.report ? ` ${p.report}` : ""}"`,
    );
    if (p.then) lines.push(p.then);
  }
  lines.push('echo "$_t done"');
  return lines.join("\n");
}

/** Wraps a watcher so an SSH command starts it in the background with its output on the serial console. */
export function detachedToConsole(script: string): string {
  return `(\n${script}\n) </dev/null >/dev/console 2>&1 &`;
}

/** A regular expression matching the watcher's line for `phase` (or its timeout), capturing the report. */
export function phaseLine(tag: string, phase: string): RegExp {
  return new RegExp(`${tag.replace(/[.]/g, "\\.")} (?:(${phase})(?: (\\S+))?|timeout (\\S+))\\r?$`, "m");
}

/**
 * Phases that see a hot-added vCPU: its cpuN directory appears (`present`, reporting cpuN); the watcher onlines it
 * at once, as Virtflex's guest udev rule does for every added CPU; then it is listed in nodeN/cpulist (`node`).
 */
export function cpuAddPhases(node: number): WatchPhase[] {
  return [
    { name: "present", until: "newcpu", report: "$_new", then: 'echo 1 > "$S/devices/system/cpu/$_new/online"' },
    { name: "node", until: `inlist "\${_new#cpu}" "$S/devices/system/node/node${node}/cpulist"`, report: "$_new" },
  ];
}

/** Phase that sees CPU `cpu` leave nodeN/cpulist. */
export function cpuOfflinePhase(cpu: number, node: number): WatchPhase {
  return { name: "offline", until: `! inlist ${cpu} "$S/devices/system/node/node${node}/cpulist"` };
}

/** Phase that sees a path disappear from sysfs (an unplugged CPU or memory block). */
export function gonePhase(name: string, paths: string[]): WatchPhase {
  return { name, until: paths.map((p) => `[ ! -e "$S/${p}" ]`).join(" && ") };
}

/** Phase that sees nodeN's MemTotal reach at least (`atLeast`) or at most `kib`. */
export function memPhase(name: string, node: number, kib: number, atLeast: boolean): WatchPhase {
  return { name, until: `memkib ${node} && [ "$_m" -${atLeast ? "ge" : "le"} ${Math.round(kib)} ]`, report: "$_m" };
}
