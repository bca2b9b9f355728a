/**
 * Running subprocesses for the benchmark: wall time (spawn to exit, measured here) and peak RSS,
 * from GNU time's "Maximum resident set size" when /usr/bin/time exists, else by polling VmHWM in
 * /proc/PID/status of the direct child (which misses the other processes of a pipeline).
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";
const HAVE_TIME = existsSync(GNU_TIME) && Bun.spawnSync([GNU_TIME, "-v", "true"], { stderr: "pipe" }).exitCode === 0;

type Child = { pid: number; kill(sig?: number): void; exited: Promise<number> };

/** Processes started here and not yet exited (with whether each leads its own process group). */
const live = new Map<Child, boolean>();

function track<T extends Child>(proc: T, group = false): T {
  live.set(proc, group);
  void proc.exited.finally(() => live.delete(proc));
  return proc;
}

/**
 * Stops the processes this module started that are still running, each by its own pid; a shell
 * pipeline started in its own session (setsid) is stopped as a whole process group, since killing
 * bash alone would leave its tar and gzip running.
 */
export function stopChildren(): void {
  for (const [p, group] of live) {
    try {
      if (group) process.kill(-p.pid, "SIGTERM");
      else p.kill();
    } catch {}
  }
}

const SETSID = existsSync("/usr/bin/setsid") ? "/usr/bin/setsid" : undefined;

export interface Measured {
  ms: number;
  /** Peak resident set in KiB (the largest single process when /usr/bin/time is used). */
  rssKiB: number;
  /** User + system CPU seconds of the command and its children (0 without GNU time). */
  cpuS: number;
  code: number;
  stderr: string;
  /** With `lines`: newline count and the last line of stdout. */
  lines?: number;
  lastLine?: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
}

export function rssMethod(): string {
  return HAVE_TIME ? "GNU time -v (max RSS of the largest process)" : "VmHWM of the direct child, polled every 5 ms";
}

function vmHWM(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Counts newlines in a stream and keeps the last line (bounded memory). */
async function tally(stream: ReadableStream<Uint8Array>): Promise<{ lines: number; lastLine: string }> {
  let lines = 0;
  let tail = new Uint8Array(0);
  for await (const chunk of stream) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    const joined = new Uint8Array(Math.min(tail.length + chunk.length, 1 << 16));
    const from = tail.length + chunk.length - joined.length;
    if (from < tail.length) {
      joined.set(tail.subarray(from), 0);
      joined.set(chunk, tail.length - from);
    } else joined.set(chunk.subarray(from - tail.length), 0);
    tail = joined;
  }
  const text = new TextDecoder().decode(tail).replace(/\n$/, "");
  return { lines, lastLine: text.slice(text.lastIndexOf("\n") + 1) };
}

/**
 * Runs `cmd` with stdout to /dev/null (or, with `lines`, counted here); returns its wall time and
 * peak RSS.
 */
export async function measure(cmd: string[], opts: RunOptions & { lines?: boolean } = {}): Promise<Measured> {
  // GNU time writes its report to a file of its own: the measured command (Bun) leaves the stderr
  // pipe they share in non-blocking mode, and GNU time's report written there was cut short (exit 1).
  const reportDir = HAVE_TIME ? mkdtempSync(join(tmpdir(), "bench-time-")) : "";
  const report = join(reportDir, "time.txt");
  const argv = HAVE_TIME ? [GNU_TIME, "-v", "-o", report, ...cmd] : cmd;
  const t0 = performance.now();
  const proc = track(
    Bun.spawn(argv, {
      stdin: "ignore",
      stdout: opts.lines ? "pipe" : "ignore",
      stderr: "pipe",
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    }),
  );
  let polled = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  if (!HAVE_TIME) timer = setInterval(() => (polled = Math.max(polled, vmHWM(proc.pid))), 5);
  const out = opts.lines ? tally(proc.stdout as ReadableStream<Uint8Array>) : undefined;
  const [code, stderr, counted] = await Promise.all([proc.exited, new Response(proc.stderr).text(), out]);
  const ms = performance.now() - t0;
  if (timer) clearInterval(timer);
  let rssKiB = polled;
  let cpuS = 0;
  if (HAVE_TIME) {
    let text = "";
    try {
      text = readFileSync(report, "utf8");
    } catch {}
    rmSync(reportDir, { recursive: true, force: true });
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    rssKiB = m ? Number(m[1]) : 0;
    const user = /User time \(seconds\): ([\d.]+)/.exec(text);
    const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
    cpuS = Number(user?.[1] ?? 0) + Number(sys?.[1] ?? 0);
  }
  return { ms, rssKiB, cpuS, code, stderr: stderr.trim(), ...(counted ?? {}) };
}

/** Best (lowest) wall time of `n` runs; the largest peak RSS seen. Throws if a run fails. */
export async function bestOf(n: number, cmd: string[], opts: RunOptions = {}): Promise<{ bestMs: number; allMs: number[]; rssKiB: number; cpuS: number }> {
  const all: Measured[] = [];
  for (let i = 0; i < n; i++) {
    const m = await measure(cmd, opts);
    if (m.code !== 0) throw new Error(`${cmd.join(" ")} exited ${m.code}: ${m.stderr.slice(0, 500)}`);
    all.push(m);
  }
  const best = all.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { bestMs: best.ms, allMs: all.map((m) => m.ms), rssKiB: Math.max(...all.map((m) => m.rssKiB)), cpuS: best.cpuS };
}

/**
 * Runs a command and collects stdout as text. With `group`, in a session of its own (setsid does not
 * fork here: a child of ours is never a group leader, so its pid is the group's id).
 */
export async function capture(cmd: string[], opts: RunOptions & { group?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const group = !!opts.group && SETSID !== undefined;
  const argv = group ? [SETSID!, ...cmd] : cmd;
  const proc = track(Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) }), group);
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

/** Runs a shell pipeline; throws with its stderr when it fails. */
export async function sh(script: string, opts: RunOptions = {}): Promise<string> {
  const r = await capture(["bash", "-o", "pipefail", "-c", script], { ...opts, group: true });
  if (r.code !== 0) throw new Error(`shell step failed (${r.code}): ${script}\n${r.stderr.slice(0, 1000)}`);
  return r.stdout;
}

/** Single-quotes a string for bash. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface Timed {
  medianMs: number;
  allMs: number[];
  /** Largest peak RSS over the runs. */
  rssKiB: number;
  /** Median user+sys CPU seconds. */
  cpuS: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs the commands round-robin `n` times (so a burst of load on this shared machine hits them all
 * alike) and returns each one's median wall time and largest peak RSS. Throws if a run fails.
 */
export async function interleaved(n: number, cmds: { cmd: string[]; opts?: RunOptions }[]): Promise<Timed[]> {
  const runs: Measured[][] = cmds.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, c] of cmds.entries()) {
      const m = await measure(c.cmd, c.opts ?? {});
      if (m.code !== 0) throw new Error(`${c.cmd.join(" ")} exited ${m.code}: ${m.stderr.slice(0, 500)}`);
      runs[k]!.push(m);
    }
  }
  return runs.map((ms) => ({
    medianMs: median(ms.map((m) => m.ms)),
    allMs: ms.map((m) => m.ms),
    rssKiB: Math.max(...ms.map((m) => m.rssKiB)),
    cpuS: median(ms.map((m) => m.cpuS)),
  }));
}
