/** Self-signed certificates for test servers, made by openssl (an EC P-256 key, valid two days). */

/** Writes a key and a certificate for `subject` ("/CN=…"), with the extra extension if given. */
export function selfSigned(keyPath: string, certPath: string, subject: string, extension?: string): void {
  const args = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", subject];
  const gen = Bun.spawnSync(extension ? [...args, "-addext", extension] : args, { stderr: "pipe" });
  if (gen.exitCode !== 0) throw new Error(`openssl failed: ${gen.stderr.toString()}`);
}
