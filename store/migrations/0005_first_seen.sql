-- 0006_first_seen: the weekly digest reads the items first seen in a week
-- (ItemsFirstSeen); without this index that is a scan of every item.
CREATE INDEX items_first_seen ON items(first_seen);
