-- The keyring as a chain of statements signed by the offline keyring authority (src/trust.rs).
-- Keep in step with ../sqlite/0004_additive_keyring_statements.sql.
--
-- Additive: an older release ignores the table and keeps running beside this one. Nothing in it
-- is trusted as stored: the bot and the clients verify every signature and hash link against
-- the authority key they hold in their own configuration.
CREATE TABLE keyring_statements (
    seq BIGINT PRIMARY KEY,
    body BYTEA NOT NULL,
    signatures TEXT NOT NULL
);
