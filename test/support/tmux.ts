/** A command on a real terminal: a detached tmux session, its screen, and keys typed into it. */
export interface Terminal {
  /** The screen and up to 1000 lines of scrollback (with `escapes`, its colours as escape sequences). */
  screen(opts?: { escapes?: boolean }): string;
  /** Waits (up to 10 s) until the screen matches. */
  waitFor(re: RegExp): Promise<void>;
  /** tmux key names ("Enter", "BSpace", "Down"). */
  keys(...keys: string[]): void;
  /** Text typed as is. */
  type(text: string): void;
  kill(): void;
  /** Resizes the terminal (the program gets SIGWINCH). */
  resize(width: number, height: number): void;
  /** Runs a tmux command on this terminal's server (e.g. "show-buffer"); its standard output. */
  tmux(...args: string[]): string;
}

/** Starts `command` (a shell line, or an argv) in a tmux session of the given size. */
export function startTerminal(command: string | string[], size: { width?: number; height?: number } = {}): Terminal {
  const session = `ls-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  // A tmux server of its own (socket named after the session), started with this process's
  // environment as it is now: no other terminal, test file or test run shares it or ends it, and it
  // exits with its one session.
  const tmux = (...args: string[]) => Bun.spawnSync(["tmux", "-L", session, ...args]);
  const argv = typeof command === "string" ? [command] : command;
  const start = () => tmux("new-session", "-d", "-s", session, "-x", String(size.width ?? 200), "-y", String(size.height ?? 50), ...argv);
  let started = start();
  // A server that could not start at once (the machine is busy): try again a few times.
  for (let i = 0; i < 5 && started.exitCode !== 0 && /server exited/.test(started.stderr.toString()); i++) {
    Bun.sleepSync(100);
    started = start();
  }
  if (started.exitCode !== 0) throw new Error(`tmux did not start: ${started.stderr.toString()}`);
  const screen = (opts: { escapes?: boolean } = {}) => tmux("capture-pane", "-p", ...(opts.escapes ? ["-e"] : []), "-t", session, "-S", "-1000").stdout.toString();
  return {
    screen,
    async waitFor(re) {
      for (let i = 0; i < 200; i++) {
        if (re.test(screen())) return;
        await Bun.sleep(50);
      }
      throw new Error(`screen never showed ${re}:\n${screen()}`);
    },
    keys(...keys) {
      tmux("send-keys", "-t", session, ...keys);
    },
    type(text) {
      tmux("send-keys", "-t", session, "-l", text);
    },
    resize(width, height) {
      tmux("resize-window", "-t", session, "-x", String(width), "-y", String(height));
    },
    kill() {
      tmux("kill-session", "-t", session);
    },
    tmux(...args) {
      return tmux(...args).stdout.toString();
    },
  };
}
