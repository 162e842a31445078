-- A database restored from a backup (outpost-appliance restore) numbers its new events from where the backup's
-- outbox ended, under seqs central may already hold for events written after the backup. restored_through is that
-- end (NULL: not restored, or settled): the site tells central, which names the first event it holds otherwise, and
-- the site renumbers from there (docs/upward-link.md "Store and forward"). Cleared once central acknowledges an
-- event past it or the site renumbered.
ALTER TABLE outbox_state ADD COLUMN restored_through BIGINT;

-- TRUE while no coalesce key has more than one unsent row (every append past the bound keeps it so): an append past
-- the bound then removes its own key's row through the index instead of searching the whole backlog for superseded
-- rows (150 ms an append at a 100,000-row backlog, holding the sequence row that every writer waits for).
ALTER TABLE outbox_state ADD COLUMN one_per_key BOOLEAN DEFAULT FALSE NOT NULL;
