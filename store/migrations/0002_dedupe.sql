-- 0002_dedupe: what dedupe across sites needs.
--
-- items.doi (present since 0001, now filled) is matched case-insensitively.
-- items.title_key is evidence.TitleKey(title); NULL means "not computed
-- yet": SQL cannot compute it, so Open fills those rows in Go right after
-- the migrations run (see backfillTitleKeys). Every write sets it.
ALTER TABLE items ADD COLUMN title_key TEXT;
CREATE INDEX items_doi ON items(doi COLLATE NOCASE);
CREATE INDEX items_title_key ON items(title_key);

-- Item pages already processed: url -> signature of what was extracted and
-- the item it became (NULL when it became none), so an unchanged page is
-- skipped without re-extracting. seen_at is when the row last changed.
CREATE TABLE candidates (
    url       TEXT PRIMARY KEY,
    source    TEXT NOT NULL DEFAULT '',
    signature TEXT NOT NULL DEFAULT '',
    item_id   TEXT,
    seen_at   TEXT NOT NULL
);
CREATE INDEX candidates_source ON candidates(source);
