/**
 * Per-process readings from /proc: the server's own account of its cost, independent of how
 * busy the load generator was. Each reading covers the process and any children it started, so a
 * server that re-executes itself (Starlight's CLI can) is still measured where the work happens.
 *
 * @module
 */

const ticksPerSecond = await clockTicks();

/** CPU seconds spent in user and in system mode. */
export interface CpuTimes {
  user: number;
  system: number;
}

/**
 * CPU seconds used so far by the process tree: every thread of every live process, plus what
 * its exited children used (`cutime`/`cstime`, counted once their parent reaped them), so a
 * worker process replaced during a run still counts.
 */
export function cpuTimes(pid: number): CpuTimes {
  let system = 0;
  const user = sumOverTree(pid, (p) => {
    const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
    // The command name in field 2 may hold spaces, so count fields from its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    system += (Number(fields[12]) + Number(fields[14])) / ticksPerSecond;
    return (Number(fields[11]) + Number(fields[13])) / ticksPerSecond;
  });
  return { user, system };
}

/** CPU seconds (user + system) used so far by the process tree; see `cpuTimes`. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** Resident set size (VmRSS) of the process tree, in KiB. */
export function rssKiB(pid: number): number {
  return sumOverTree(pid, (p) => {
    const match = Deno.readTextFileSync(`/proc/${p}/status`).match(/^VmRSS:\s+(\d+) kB$/m);
    if (!match) throw new Error(`no VmRSS for pid ${p}`);
    return Number(match[1]);
  });
}

/**
 * Seconds core `core` spent busy so far: everything but idle and iowait. Interrupt time counts,
 * as the kernel also charges it to the task it interrupted, so on a quiet machine this minus the
 * server's CPU is about 0 for the server's core.
 */
export function coreBusySeconds(core: string): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n").find((l) =>
    l.startsWith(`cpu${core} `)
  );
  if (!line) throw new Error(`no cpu${core} in /proc/stat`);
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.split(/\s+/).slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}

/** Sums `read` over `pid` and its descendants; a descendant that just exited counts 0. */
function sumOverTree(pid: number, read: (pid: number) => number, root = true): number {
  let own: number;
  try {
    own = read(pid);
  } catch (e) {
    if (root) throw e;
    return 0;
  }
  return own + children(pid).reduce((sum, child) => sum + sumOverTree(child, read, false), 0);
}

/** Children of every thread of `pid`; threads come and go, so a vanished one has none. */
function children(pid: number): number[] {
  return [...Deno.readDirSync(`/proc/${pid}/task`)].flatMap((task) => {
    try {
      const list = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      return list.split(" ").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

async function clockTicks(): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    return Number(new TextDecoder().decode(stdout)) || 100;
  } catch {
    return 100; // Linux's USER_HZ nearly everywhere.
  }
}
