-- Signatures of items that must prove their author: replies to the reporter, signed by the
-- reviewer's Ed25519 key (the keyring authority signed it into the keyring). The bot shows a
-- reply in /status only when its signature verifies. Keep in step with
-- ../postgres/0005_additive_item_signatures.sql.
--
-- Additive: an older release ignores the table (and shows replies unchecked, as it did).
CREATE TABLE item_signatures (
    item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    signature BLOB NOT NULL
);
