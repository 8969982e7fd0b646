-- Re-share parts of threshold-sealed items (src/crypto/threshold.rs; docs/FORMATS.md §23):
-- when the custodians change, each of k current custodians splits its own share anew for the
-- next custodians and uploads that part, sealed to them; once k parts of distinct custodians
-- are in, the server assembles the item's new header and the parts are deleted. A part is
-- sealed: the server, and whoever reads this table, learns nothing from it.
-- Keep in step with ../postgres/0009_additive_reshare_parts.sql.
--
-- Additive: an older release ignores the table.
CREATE TABLE reshare_parts (
    item_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    dealer TEXT NOT NULL,
    part BLOB NOT NULL,
    PRIMARY KEY (item_id, dealer)
);
