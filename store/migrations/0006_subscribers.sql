-- Digest subscribers and the delivery log (one row per week and
-- subscriber: claimed before sending, marked sent with the server's reply).
CREATE TABLE subscribers (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,  -- lower-cased address: one subscriber per mailbox
    status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bouncing')),
    topics        TEXT NOT NULL DEFAULT '[]',  -- JSON array; empty = every topic
    sources       TEXT NOT NULL DEFAULT '[]',  -- JSON array; empty = every source
    format        TEXT NOT NULL DEFAULT 'html' CHECK (format IN ('html', 'text')),
    created_at    TEXT NOT NULL,
    confirmed_at  TEXT,
    unsubscribed_at TEXT,
    confirm_sent_at TEXT,
    bounces       INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
);
CREATE INDEX subscribers_status ON subscribers (status);

CREATE TABLE deliveries (
    week          TEXT NOT NULL,   -- ISO week, 2026-W47
    subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    message_id    TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 1,
    claimed_at    TEXT NOT NULL,
    sent_at       TEXT,
    reply         TEXT,
    error         TEXT,
    permanent     INTEGER NOT NULL DEFAULT 0,  -- a 5xx refusal: not retried for this week
    PRIMARY KEY (week, subscriber_id)
);
