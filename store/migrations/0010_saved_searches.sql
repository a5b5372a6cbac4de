-- Saved searches: a signed-in user's searches kept under a name (unique
-- per user in any case), each with the unguessable token of its Atom feed.
-- The token is kept as it is, since /saved shows the feed's address again,
-- and looked up by its hex SHA-256, so a lookup compares no secret.
CREATE TABLE saved_searches (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,           -- lower-cased name
    query           TEXT NOT NULL DEFAULT '',
    sources         TEXT NOT NULL DEFAULT '[]',  -- JSON arrays, as the search page's filters
    types           TEXT NOT NULL DEFAULT '[]',
    topics          TEXT NOT NULL DEFAULT '[]',
    year            TEXT NOT NULL DEFAULT '',
    feed_token      TEXT NOT NULL,
    feed_token_hash TEXT NOT NULL UNIQUE,
    created         TEXT NOT NULL,
    last_visit      TEXT,
    UNIQUE (user_id, name_key)
);

-- Topics an admin made from a saved search: merged with the configured
-- taxonomy (config topics) when the index is opened.
CREATE TABLE custom_topics (
    name_key        TEXT PRIMARY KEY,        -- lower-cased name: one topic per name
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    query           TEXT NOT NULL,
    saved_search_id TEXT REFERENCES saved_searches (id) ON DELETE SET NULL,
    created_by      TEXT NOT NULL,
    created         TEXT NOT NULL
);

-- A saved search as a section of one subscriber's weekly digest.
CREATE TABLE digest_saved_sections (
    subscriber_id   TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    saved_search_id TEXT NOT NULL REFERENCES saved_searches (id) ON DELETE CASCADE,
    added_by        TEXT NOT NULL,
    added           TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, saved_search_id)
);
CREATE INDEX digest_saved_sections_saved ON digest_saved_sections (saved_search_id);
