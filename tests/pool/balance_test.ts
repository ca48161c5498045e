/**
 * Fair share of a shared accept queue (lib/pool/balance.ts): the supervisor's board of named
 * cells, and each worker's gate over it.
 */

import assert from "node:assert/strict";
import {
  ACCEPTING,
  BalanceBoard,
  FairShare,
  FIRST_SLOT,
  SLOTS_IN_USE,
} from "../../lib/pool/balance.ts";

Deno.test("the board hands out free slots, clears them, and publishes how many accept", () => {
  const board = new BalanceBoard(2);
  const a = board.take();
  const b = board.take();
  assert.deepEqual([a, b], [0, 1]);
  assert.equal(board.take(), -1, "no slot beyond capacity");
  const cells = new Int32Array(board.configFor(a)!.shares);
  assert.equal(cells[SLOTS_IN_USE], 2);
  cells[FIRST_SLOT + b] = 9;
  board.free(b);
  assert.equal(cells[FIRST_SLOT + b], 0, "a gone worker's count is cleared for it");
  assert.equal(board.take(), 1, "a freed slot is reused");
  board.publishAccepting(3);
  assert.equal(cells[ACCEPTING], 3);
  assert.equal(board.configFor(-1), undefined);
});

Deno.test("a worker above the average plus one stops accepting; some worker always may", () => {
  const board = new BalanceBoard(4);
  const counts = [0, 0];
  const shares = [0, 1].map((i) => new FairShare(board.configFor(board.take())!, () => counts[i]));
  try {
    board.publishAccepting(2);
    counts[0] = 10;
    counts[1] = 2;
    shares[1].allows();
    assert.equal(shares[0].allows(), false);
    assert.equal(shares[1].allows(), true);
    counts[0] = 7;
    counts[1] = 5;
    shares[1].allows();
    assert.equal(shares[0].allows(), true, "within one of the average");
    board.publishAccepting(1);
    counts[0] = 100;
    assert.equal(shares[0].allows(), true, "alone, a worker always accepts");
  } finally {
    for (const share of shares) share.leave();
  }
});

Deno.test("a worker that leaves no longer counts for the others", () => {
  const board = new BalanceBoard(4);
  const counts = [20, 1];
  const shares = [0, 1].map((i) => new FairShare(board.configFor(board.take())!, () => counts[i]));
  try {
    board.publishAccepting(2);
    shares[0].allows();
    shares[0].leave();
    const cells = new Int32Array(board.configFor(0)!.shares);
    assert.equal(cells[FIRST_SLOT], 0);
    assert.equal(shares[0].allows(), true);
  } finally {
    shares[1].leave();
  }
});
