/**
 * scripts/test-deps.sh waits for the package manager's lock another install holds, rather than
 * failing: the lock is held here the way apt holds it (an fcntl lock on the lists' lock file), and
 * the script's real apt-get runs once it is free. The package asked for does not exist, so nothing
 * is installed: the script gets past the lock and fails on the name instead.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const HOLD_SECONDS = 8;

test("another install holding apt's lock: the script waits for it, then runs apt-get", async () => {
  // Held by python's fcntl.lockf, as apt and dpkg lock (not flock).
  const holder = Bun.spawn(
    [
      "python3",
      "-c",
      `import fcntl, sys, time
f = open("/var/lib/apt/lists/lock", "a")
fcntl.lockf(f, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(${HOLD_SECONDS})`,
    ],
    { stdout: "pipe" },
  );
  const reader = holder.stdout.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toStartWith("held");
  const started = performance.now();
  const script = Bun.spawn(["bash", join(root, "scripts/test-deps.sh")], {
    env: { ...process.env, LAYERSLAYER_TEST_DEPS: "layerslayer-no-such-package" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([script.exited, new Response(script.stderr).text()]);
  const seconds = (performance.now() - started) / 1000;
  await holder.exited;
  expect(stderr).toContain("waiting for the package manager's lock");
  expect(stderr).not.toContain("Could not get lock");
  expect(stderr).toContain("Unable to locate package layerslayer-no-such-package");
  expect(code).toBe(1);
  expect(seconds).toBeGreaterThanOrEqual(HOLD_SECONDS - 1);
}, 120_000);

test("nothing missing: the script exits at once without apt-get", () => {
  const r = Bun.spawnSync(["bash", join(root, "scripts/test-deps.sh")], { env: { ...process.env, LAYERSLAYER_TEST_DEPS: "bash tar" }, stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  expect(r.stderr.toString()).toBe("");
});
