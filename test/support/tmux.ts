/** A command on a real terminal: a detached tmux session, its screen, and keys typed into it. */
export interface Terminal {
  /** The screen and up to 1000 lines of scrollback. */
  screen(): string;
  /** Waits (up to 10 s) until the screen matches. */
  waitFor(re: RegExp): Promise<void>;
  /** tmux key names ("Enter", "BSpace", "Down"). */
  keys(...keys: string[]): void;
  /** Text typed as is. */
  type(text: string): void;
  kill(): void;
  /** The screen with its colours (SGR escapes, as `capture-pane -e` gives them). */
  styled(): string;
  /** Resizes the terminal (the program gets SIGWINCH). */
  resize(width: number, height: number): void;
}

/** Starts `command` (a shell line, or an argv) in a tmux session of the given size. */
export function startTerminal(command: string | string[], size: { width?: number; height?: number } = {}): Terminal {
  const session = `ls-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const argv = typeof command === "string" ? [command] : command;
  let started = Bun.spawnSync(["tmux", "new-session", "-d", "-s", session, "-x", String(size.width ?? 200), "-y", String(size.height ?? 50), ...argv]);
  // The server of a session just killed may still be exiting ("server exited unexpectedly"): once more.
  for (let i = 0; i < 3 && started.exitCode !== 0; i++) {
    Bun.sleepSync(100);
    started = Bun.spawnSync(["tmux", "new-session", "-d", "-s", session, "-x", String(size.width ?? 200), "-y", String(size.height ?? 50), ...argv]);
  }
  if (started.exitCode !== 0) throw new Error(`tmux did not start: ${started.stderr.toString()}`);
  const screen = () => Bun.spawnSync(["tmux", "capture-pane", "-p", "-t", session, "-S", "-1000"]).stdout.toString();
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
      Bun.spawnSync(["tmux", "send-keys", "-t", session, ...keys]);
    },
    type(text) {
      Bun.spawnSync(["tmux", "send-keys", "-t", session, "-l", text]);
    },
    styled() {
      return Bun.spawnSync(["tmux", "capture-pane", "-p", "-e", "-t", session]).stdout.toString();
    },
    resize(width, height) {
      Bun.spawnSync(["tmux", "resize-window", "-t", session, "-x", String(width), "-y", String(height)]);
    },
    kill() {
      Bun.spawnSync(["tmux", "kill-session", "-t", session]);
    },
  };
}
