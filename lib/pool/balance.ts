/**
 * Fair share of a shared accept queue, in one place: the supervisor's board of slots and the
 * worker's gate.
 *
 * Deno's `loadBalanced` sockets have one accept queue for every worker, and whichever thread is
 * awake first takes the connection: under a burst one worker can take nearly all keep-alive
 * connections while the others idle. So each worker publishes its live connection count in a
 * shared array and stops accepting while it holds more than its share.
 *
 * The shared array (Int32) has two named header cells, then one cell per worker slot:
 * - {@link ACCEPTING}: how many workers accept (written by the supervisor);
 * - {@link SLOTS_IN_USE}: the highest slot in use + 1 (written by the supervisor);
 * - from {@link FIRST_SLOT}: each worker's live connections (written by that worker; cleared by
 *   the supervisor when the worker is gone, since a stuck worker cannot clear its own).
 *
 * A worker process (issue 15) cannot share memory with the supervisor; it would take its share
 * from the kernel's `SO_REUSEPORT` hash instead and get no slot.
 *
 * @module
 */

/** Cell: workers accepting now. */
export const ACCEPTING = 0;
/** Cell: slots in use (the highest taken slot + 1); readers sum the cells below it. */
export const SLOTS_IN_USE = 1;
/** Index of the first per-worker cell. */
export const FIRST_SLOT = 2;

/** Workers that get a slot; any beyond (an operator's TTIN spree) accept ungated. */
export const BALANCE_SLOTS = 256;

/** Connections a worker may hold beyond its even share before it stops accepting. */
const SHARE_SLACK = 1;

/** What a worker needs to take its fair share: the shared array and its own slot. */
export interface BalanceConfig {
  /** The shared array. */
  shares: SharedArrayBuffer;
  /** This worker's slot (0-based; its cell is `FIRST_SLOT + slot`). */
  slot: number;
}

/**
 * The supervisor's side: hands out slots and publishes how many workers accept.
 *
 * @example
 * ```ts
 * import { BalanceBoard } from "./balance.ts";
 * const board = new BalanceBoard(4);
 * const slot = board.take();
 * board.publishAccepting(1);
 * const config = board.configFor(slot); // sent to the worker
 * board.free(slot);
 * ```
 */
export class BalanceBoard {
  readonly #shares: SharedArrayBuffer;
  readonly #cells: Int32Array;
  readonly #taken: boolean[] = [];
  readonly #capacity: number;

  /** A board with room for `slots` workers. */
  constructor(slots = BALANCE_SLOTS) {
    this.#capacity = slots;
    this.#shares = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (FIRST_SLOT + slots));
    this.#cells = new Int32Array(this.#shares);
  }

  /** A free slot with its count cleared, or -1 when every slot is taken. */
  take(): number {
    let slot = this.#taken.indexOf(false);
    if (slot < 0) {
      if (this.#taken.length >= this.#capacity) return -1;
      slot = this.#taken.length;
    }
    this.#taken[slot] = true;
    Atomics.store(this.#cells, FIRST_SLOT + slot, 0);
    Atomics.store(this.#cells, SLOTS_IN_USE, this.#taken.length);
    return slot;
  }

  /** Gives `slot` back and clears its count (its worker may be stuck and unable to). */
  free(slot: number): void {
    if (slot < 0 || !this.#taken[slot]) return;
    Atomics.store(this.#cells, FIRST_SLOT + slot, 0);
    this.#taken[slot] = false;
  }

  /** Tells the workers how many of them accept. */
  publishAccepting(workers: number): void {
    Atomics.store(this.#cells, ACCEPTING, workers);
  }

  /** The config a worker in `slot` gets; `undefined` for no slot (-1). */
  configFor(slot: number): BalanceConfig | undefined {
    return slot < 0 ? undefined : { shares: this.#shares, slot };
  }
}

/**
 * The worker's side: publishes its live connection count and may accept while it holds no more
 * than the average plus a little. Not every worker can be above the average, so some worker
 * always accepts.
 *
 * @example
 * ```ts ignore
 * const share = new FairShare(config.balance, () => server.connections);
 * const gated = new WrappedListener(listener, (conn) => conn, () => share.allows());
 * ```
 */
export class FairShare {
  readonly #cells: Int32Array;
  readonly #cell: number;
  readonly #connections: () => number;
  readonly #timer: ReturnType<typeof setInterval>;
  #left = false;

  /** Starts publishing `connections()` into this worker's cell. */
  constructor(config: BalanceConfig, connections: () => number) {
    this.#cells = new Int32Array(config.shares);
    this.#cell = FIRST_SLOT + config.slot;
    this.#connections = connections;
    // Connections also end while no accept is pending: keep the count fresh for the others.
    const timer = setInterval(() => this.#publish(), 50);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #publish(): number {
    const mine = this.#left ? 0 : this.#connections();
    Atomics.store(this.#cells, this.#cell, mine);
    return mine;
  }

  /** Whether this worker may take the next connection now. */
  allows(): boolean {
    const mine = this.#publish();
    const workers = Atomics.load(this.#cells, ACCEPTING);
    if (workers <= 1 || this.#left) return true;
    const end = FIRST_SLOT + Atomics.load(this.#cells, SLOTS_IN_USE);
    let total = 0;
    for (let i = FIRST_SLOT; i < end; i++) total += Atomics.load(this.#cells, i);
    return mine * workers <= total + SHARE_SLACK * workers;
  }

  /** This worker no longer accepts: its connections no longer count. */
  leave(): void {
    this.#left = true;
    clearInterval(this.#timer);
    Atomics.store(this.#cells, this.#cell, 0);
  }
}
