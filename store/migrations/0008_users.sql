-- Accounts that sign in to the web or call the API, their browser
-- sessions and their API tokens. Only hashes of secrets are stored: the
-- password as an argon2id PHC string, a session or API token as the
-- hex SHA-256 of the random token the browser or script holds.
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL UNIQUE,  -- lower-cased address: one account per mailbox
    role             TEXT NOT NULL CHECK (role IN ('reader', 'curator', 'admin')),
    password_hash    TEXT NOT NULL,
    created          TEXT NOT NULL,
    last_login       TEXT,
    password_changed TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created    TEXT NOT NULL,
    expires    TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL,
    last_used  TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
