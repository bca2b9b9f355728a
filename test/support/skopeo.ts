/** skopeo copy between the test registry and local image forms (oci:, oci-archive:, docker-archive:). */
export function skopeo(args: string[]): void {
  const p = Bun.spawnSync(["skopeo", "copy", "--quiet", "--src-tls-verify=false", ...args]);
  if (p.exitCode !== 0) throw new Error(`skopeo copy ${args.join(" ")}: ${p.stderr.toString()}`);
}
