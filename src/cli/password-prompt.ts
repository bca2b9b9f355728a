import { LayerslayerError } from "../errors.ts";

/** Exit status of a prompt ended by Ctrl-C, as a shell reports SIGINT. */
const INTERRUPTED = 130;

/**
 * Reads a password from the terminal without echoing it: the prompt on stderr (stdout may be a
 * pipe), the keys in raw mode. Enter ends it; Backspace deletes, Ctrl-U clears, Ctrl-C exits 130,
 * Ctrl-D on an empty line gives up.
 */
export function promptPassword(message: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  output.write(message);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (): void => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      output.write("\n");
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          finish();
          return resolve(value);
        }
        if (ch === "\x03") {
          finish();
          process.exit(INTERRUPTED);
        }
        if (ch === "\x04" && value === "") {
          finish();
          return reject(new LayerslayerError("USAGE", "no password was typed"));
        }
        if (ch === "\x7f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch === "\x15") value = "";
        else if (ch >= " ") value += ch;
      }
    };
    input.on("data", onData);
  });
}
