// Plain JavaScript so that the node:http peer can import it too: every server sends the same bytes.

/** User-like records, about 64 KiB once passed to `JSON.stringify`. */
export const rows = [];
for (let id = 0, size = 2; size < 64 * 1024; id++) {
  const row = {
    id,
    name: `user ${id}`,
    email: `user${id}@example.com`,
    active: id % 3 !== 0,
    score: (id * 7919) % 1000 / 10,
  };
  rows.push(row);
  size += JSON.stringify(row).length + 1;
}
