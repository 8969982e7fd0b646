-- An item's place in its case. Item ids are random from this version on (a counter kept the
-- order in which reports came in, across all cases: src/store/cases.rs, new_item_id); a case's
-- items are ordered by this position instead, one more than the case's last item, so it says
-- nothing about other cases. Items written before have no position and sort by their id, which
-- is below any position given after them in the same case.
-- Keep in step with ../sqlite/0010_additive_item_positions.sql.
--
-- Additive: an older release ignores the column (and orders by id).
ALTER TABLE items ADD COLUMN pos BIGINT;
