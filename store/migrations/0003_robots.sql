-- robots.txt kept between runs (RFC 9309 allows a 24-hour cache), so an
-- unchanged re-run does not ask each host for it again.
CREATE TABLE robots (
    origin     TEXT PRIMARY KEY,   -- scheme://host[:port]
    status     INTEGER NOT NULL,   -- 200, or the 4xx that means "no restrictions"
    body       BLOB,
    fetched_at TEXT NOT NULL
);
