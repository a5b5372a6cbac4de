-- 0004_topics: the topics each item is tagged with, as the index's tagger
-- found them when the item was last indexed (ingest.SyncIndex tags, stores
-- here, then indexes, so store and index agree). strength orders an item's
-- topics (the strongest is its primary topic); field is the best field the
-- topic matched in (title, summary, body, or given for the item's own
-- topics); hits counts the matches.
CREATE TABLE item_topics (
    item_id  TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    topic    TEXT NOT NULL,
    strength REAL NOT NULL,
    field    TEXT NOT NULL DEFAULT '',
    hits     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, topic)
);
CREATE INDEX item_topics_topic ON item_topics(topic);

-- Items stored before this table existed have no stored topics: make them
-- pending, so the next sync tags, stores and re-indexes every one of them.
UPDATE items SET indexed_hash = NULL WHERE indexed_hash IS NOT NULL;
