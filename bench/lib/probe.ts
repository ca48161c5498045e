/**
 * Whether this Starlight accepts some CLI flags, so that a contender built on a flag that does
 * not exist yet (an engine or isolation another branch is building) is skipped with the CLI's
 * own message instead of failing the run, and measured as soon as the flag lands.
 *
 * @module
 */

const cache = new Map<string, Promise<string | undefined>>();

/**
 * Undefined when `entry` (Starlight's mod.ts) accepts `flags`; else the CLI's one-line
 * complaint, e.g. "starlight: unknown option --engine". Asks `--help` after the flags: the CLI
 * parses them first, then prints help and exits 0 without serving.
 */
export function rejectedFlags(entry: string, flags: string[]): Promise<string | undefined> {
  if (!flags.length) return Promise.resolve(undefined);
  const key = [entry, ...flags].join("\0");
  let answer = cache.get(key);
  if (!answer) {
    answer = ask(entry, flags);
    cache.set(key, answer);
  }
  return answer;
}

async function ask(entry: string, flags: string[]): Promise<string | undefined> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", entry, ...flags, "--help"],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  if (output.success) return undefined;
  const lines = new TextDecoder().decode(output.stderr).split("\n").map((l) => l.trim());
  const why = lines.find((l) => l && !l.startsWith("Usage:")) ?? `exit ${output.code}`;
  return `${flags.join(" ")} not supported by this Starlight (${why})`;
}
