-- Librarians' collections: a named list of items in ordered sections, each
-- entry with a curator's note, edited under optimistic versions (version
-- counts edits; collection_history keeps who changed what, and when).
-- An entry names its item by ID without a foreign key: an item that leaves
-- the store leaves its entries readable (the reader sees no item).
CREATE TABLE collections (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',   -- Markdown, as the curator wrote it
    owner       TEXT NOT NULL DEFAULT '',   -- e-mail of the creator
    visibility  TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    version     INTEGER NOT NULL DEFAULT 1,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE collection_sections (
    id            TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    intro         TEXT NOT NULL DEFAULT '',  -- Markdown
    position      INTEGER NOT NULL           -- 1-based, rewritten on every edit
);
CREATE INDEX collection_sections_order ON collection_sections (collection_id, position);

CREATE TABLE collection_entries (
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    section_id    TEXT NOT NULL REFERENCES collection_sections (id) ON DELETE CASCADE,
    item_id       TEXT NOT NULL,              -- items.id; no foreign key (see above)
    position      INTEGER NOT NULL,           -- 1-based within the section
    note          TEXT NOT NULL DEFAULT '',   -- Markdown
    added         TEXT NOT NULL,
    added_by      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (collection_id, item_id)      -- an item at most once per collection
);
CREATE INDEX collection_entries_order ON collection_entries (section_id, position);
CREATE INDEX collection_entries_item ON collection_entries (item_id);

CREATE TABLE collection_history (
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    at            TEXT NOT NULL,
    by            TEXT NOT NULL DEFAULT '',
    action        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (collection_id, version)
);
