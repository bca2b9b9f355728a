/**
 * The signals that end a command early: Ctrl-C (SIGINT), `kill` (SIGTERM) and a closed terminal
 * (SIGHUP). A command that owns temp files installs a handler for all three, removes (or hands
 * back) its files and exits with 128 + the signal's number, as a shell reports it.
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
