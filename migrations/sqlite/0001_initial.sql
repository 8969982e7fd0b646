-- tipline schema, SQLite. Keep in step with ../postgres/0001_initial.sql.
--
-- Times of reporter activity (case creation, items, receipts) are stored as day numbers
-- (days since 1970-01-01 in Vietnam time, UTC+7), never as timestamps: a precise time could be
-- matched against Telegram's or a network observer's record of who messaged the bot when.
-- Staff activity (leases, tokens) may keep seconds.

CREATE TABLE keyring (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
INSERT INTO keyring (id, epoch) VALUES (1, 0);

CREATE TABLE recipients (
    key_id TEXT PRIMARY KEY,
    public_key BLOB NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'custodian')),
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    added_day INTEGER NOT NULL,
    added_epoch INTEGER NOT NULL,
    retired_day INTEGER,
    retired_epoch INTEGER
);

CREATE TABLE cases (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    outcome TEXT,
    category TEXT NOT NULL,
    created_day INTEGER NOT NULL,
    updated_day INTEGER NOT NULL,
    closed_day INTEGER,
    claimed_by TEXT,
    lease_until INTEGER,
    unread_from_reporter INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cases_by_status ON cases (status, created_day);

CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    blob BLOB NOT NULL,
    created_day INTEGER NOT NULL,
    author TEXT,
    for_key TEXT,
    epoch INTEGER NOT NULL
);
CREATE INDEX items_by_case ON items (case_id, id);

CREATE TABLE receipts (
    lookup_id BLOB PRIMARY KEY,
    case_id BLOB NOT NULL UNIQUE REFERENCES cases (id) ON DELETE CASCADE,
    mailbox_public BLOB NOT NULL
);

CREATE TABLE drafts (
    pseudonym BLOB PRIMARY KEY,
    secret_version INTEGER NOT NULL,
    state BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX drafts_by_expiry ON drafts (expires_at);

CREATE TABLE review_tokens (
    id TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'custodian', 'admin')),
    issued_day INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE disclosure_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    requester TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'fulfilled')),
    created_day INTEGER NOT NULL,
    decided_day INTEGER
);

CREATE TABLE disclosure_decisions (
    request_id INTEGER NOT NULL REFERENCES disclosure_requests (id) ON DELETE CASCADE,
    custodian TEXT NOT NULL,
    approve INTEGER NOT NULL,
    reason TEXT NOT NULL,
    day INTEGER NOT NULL,
    PRIMARY KEY (request_id, custodian)
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    day INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    case_code TEXT,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);

CREATE TABLE rate_limits (
    pseudonym BLOB NOT NULL,
    bucket TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (pseudonym, bucket)
);
