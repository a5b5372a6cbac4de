-- The order an editor gave the items within a digest's sections (digest
-- move, the draft page's up and down buttons): a JSON object mapping a
-- section's topic to item ids, those placed first.
ALTER TABLE digest_drafts ADD COLUMN section_order TEXT NOT NULL DEFAULT '{}';
