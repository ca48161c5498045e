/**
 * The kernel's view of TCP sockets (`/proc/net/tcp`, `/proc/net/tcp6`), for tests that check
 * what a server leaves behind: sockets in CLOSE-WAIT are ones whose peer left and that the
 * server never closed.
 *
 * @module
 */

/** TCP states as `/proc/net/tcp` numbers them. */
const STATES: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "06": "TIME_WAIT",
  "07": "CLOSE",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
};

/** Whether the kernel's socket tables can be read here. */
export function socketTablesReadable(): boolean {
  try {
    Deno.readTextFileSync("/proc/net/tcp");
    return true;
  } catch {
    return false;
  }
}

/** How many sockets whose local port is `port` are in each state, e.g. `{ CLOSE_WAIT: 3 }`. */
export function socketStates(port: number): Record<string, number> {
  const counts: Record<string, number> = {};
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || !fields[1].endsWith(`:${hex}`)) continue;
      const state = STATES[fields[3]] ?? fields[3];
      counts[state] = (counts[state] ?? 0) + 1;
    }
  }
  return counts;
}
