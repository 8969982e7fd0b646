-- Webhook mode with replicas. Keep in step with ../postgres/0003_webhook.sql.
--
-- An update id is claimed here before the update is handled, so a redelivery (Telegram retries,
-- or the same update reaching a second replica) is recognised and answered 200 without a second
-- reply or report. The row holds no pseudonym and no chat, only the id and the day it was
-- claimed (day precision, like every time of reporter activity); rows are purged after two days
-- (Telegram keeps an undelivered update for at most 24 hours).
CREATE TABLE processed_updates (
    update_id INTEGER PRIMARY KEY,
    day INTEGER NOT NULL
);
CREATE INDEX processed_updates_by_day ON processed_updates (day);
