-- The librarian's draft of each week's digest, and the archive of the
-- un-personalised digests as sent.
CREATE TABLE digest_drafts (
    week        TEXT PRIMARY KEY,          -- ISO week, 2026-W47
    picks       TEXT NOT NULL DEFAULT '[]', -- JSON array of item ids, in order
    drops       TEXT NOT NULL DEFAULT '[]',
    note        TEXT NOT NULL DEFAULT '',   -- Markdown
    approved_by TEXT,
    approved_at TEXT,
    updated_by  TEXT,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE digest_archive (
    week       TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    dates      TEXT NOT NULL,
    items      INTEGER NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    markdown   TEXT NOT NULL,
    json       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
