/**
 * The signals that end a command early: Ctrl-C (SIGINT), `kill` (SIGTERM) and a closed terminal
 * (SIGHUP). They abort the command run's signal (commandSignal, below), so every read stops and
 * leaves the cache consistent; a command that owns temp files removes (or hands back) its files as
 * the abort reaches it, and the process exits with 128 + the signal's number, as a shell reports it.
 */

export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

export const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** 128 + the signal number: 130, 143, 129. */
export const SIGNAL_EXIT_CODE: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * Calls `handler` on the first of the three signals; a second one exits at once with its code
 * (the user insists, or the cleanup hangs). Returns the function that removes the handlers.
 */
export function onStopSignal(handler: (signal: StopSignal, exitCode: number) => void): () => void {
  let seen = false;
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => {
      if (seen) process.exit(SIGNAL_EXIT_CODE[signal]);
      seen = true;
      handler(signal, SIGNAL_EXIT_CODE[signal]);
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}

/**
 * A stopped command that does not end within this long (a read that does not take the signal) is
 * ended anyway, as the signal's default action would have.
 */
const GRACE_MS = 1500;

let run: { controller: AbortController; stoppedBy?: StopSignal; remove?: () => void } | undefined;

/**
 * The cancellation of the command that runs: one AbortController per run, whose signal every read
 * of the command takes. The first Ctrl-C, kill or closed terminal aborts it: downloads stop, the
 * listing path aborts its cache writer (no half-written rows), and the command ends with ABORTED,
 * which main.ts reports in one line with exit 128 + N. A second signal exits at once. The handlers
 * are installed when a command first asks for the signal (commands that never read keep the
 * signals' default action).
 */
export function commandSignal(): AbortSignal {
  run ??= { controller: new AbortController() };
  const r = run;
  r.remove ??= onStopSignal((signal, exitCode) => {
    r.stoppedBy = signal;
    r.controller.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => process.exit(exitCode), GRACE_MS).unref();
  });
  return r.controller.signal;
}

/** The signal that stopped the command run, if one did. */
export function stoppedBy(): StopSignal | undefined {
  return run?.stoppedBy;
}

/** Ends the command run: its handlers removed, the next run gets a fresh signal. */
export function endCommandRun(): void {
  run?.remove?.();
  run = undefined;
}
