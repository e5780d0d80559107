-- poold demo schema: items with stock, events, orders.
-- Applied at every start and reload inside one transaction, so it must be
-- idempotent: CREATE ... IF NOT EXISTS, INSERT OR IGNORE.

CREATE TABLE IF NOT EXISTS items (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  qty        INTEGER NOT NULL CHECK (qty >= 0),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS events (
  id      INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id),
  kind    TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS orders (
  id      INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id),
  qty     INTEGER NOT NULL CHECK (qty > 0),
  at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX IF NOT EXISTS events_item ON events(item_id);
CREATE INDEX IF NOT EXISTS orders_item ON orders(item_id);

-- 1000 seeded items, each with 100 in stock
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT OR IGNORE INTO items(id, name, qty) SELECT i, 'item ' || i, 100 FROM n;
