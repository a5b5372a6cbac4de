-- 0001_init: the system of record for sources, fetch state, items, aliases
-- and the links between items. Times are RFC 3339 UTC text with a fixed
-- nine-digit fraction, so they sort as text.

CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL DEFAULT '',
    strategy             TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'never',
    last_run             TEXT,
    last_success         TEXT,
    last_error           TEXT NOT NULL DEFAULT '',
    last_error_at        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll            TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE source_runs (
    id           INTEGER PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    started_at   TEXT NOT NULL,
    ended_at     TEXT NOT NULL,
    strategy     TEXT NOT NULL DEFAULT '',
    ok           INTEGER NOT NULL,
    blocked      INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    fetched      INTEGER NOT NULL DEFAULT 0,
    not_modified INTEGER NOT NULL DEFAULT 0,
    new_items    INTEGER NOT NULL DEFAULT 0,
    updated_items INTEGER NOT NULL DEFAULT 0,
    next_poll    TEXT
);
CREATE INDEX source_runs_source ON source_runs(source_id, started_at);

CREATE TABLE fetch_state (
    url           TEXT PRIMARY KEY,
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    content_hash  TEXT NOT NULL DEFAULT '',
    fetched_at    TEXT
);

CREATE TABLE items (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL DEFAULT '',
    type         TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    published    TEXT,
    updated      TEXT,
    first_seen   TEXT NOT NULL,
    authors      TEXT NOT NULL DEFAULT '[]',
    topics       TEXT NOT NULL DEFAULT '[]',
    categories   TEXT NOT NULL DEFAULT '[]',
    pdf_urls     TEXT NOT NULL DEFAULT '[]',
    announced_by TEXT NOT NULL DEFAULT '[]',
    cites        TEXT NOT NULL DEFAULT '[]',
    links        TEXT NOT NULL DEFAULT '[]',
    provenance   TEXT NOT NULL DEFAULT '{}',
    doi          TEXT,
    content_hash TEXT NOT NULL,
    indexed_hash TEXT,
    updated_at   TEXT NOT NULL
);
CREATE INDEX items_source ON items(source);
CREATE INDEX items_published ON items(published);
-- The index outbox: rows whose indexed content is missing or stale.
CREATE INDEX items_pending ON items(id) WHERE indexed_hash IS NOT content_hash;

-- PDF URLs of items, so a link to a PDF resolves to the item that offers it.
CREATE TABLE item_pdfs (
    pdf_url TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    PRIMARY KEY (pdf_url, item_id)
);
CREATE INDEX item_pdfs_item ON item_pdfs(item_id);

-- Old URL -> canonical item URL (redirects, tracking variants, moved pages).
CREATE TABLE aliases (
    alias      TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX aliases_url ON aliases(url);

-- Outbound links of an item; to_id is set once the target is a stored item.
CREATE TABLE item_links (
    from_id  TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    to_url   TEXT NOT NULL,
    to_id    TEXT REFERENCES items(id) ON DELETE SET NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_url)
);
CREATE INDEX item_links_to_url ON item_links(to_url);
CREATE INDEX item_links_to_id ON item_links(to_id);
