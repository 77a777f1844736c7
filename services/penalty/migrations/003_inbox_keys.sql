-- Inbox keys follow the shared convention `<schema>.<handler>` (shared.inbox):
-- penalty's handlers recorded bare event types ('deadline.missed'), now
-- 'penalty.deadline.missed'. Renamed in place so an upgraded deployment finds
-- the events it applied and does not apply them again. A row already under
-- the new key (the event was redelivered to a consumer of the new convention)
-- makes the old one redundant: it is dropped rather than renamed onto it.
-- The ledger's own guard, penalty.deductions.source_key UNIQUE, is untouched.
DELETE FROM penalty.inbox AS old
 WHERE old.handler NOT LIKE 'penalty.%'
   AND EXISTS (SELECT 1 FROM penalty.inbox AS renamed
                WHERE renamed.handler = 'penalty.' || old.handler
                  AND renamed.event_id = old.event_id);

UPDATE penalty.inbox SET handler = 'penalty.' || handler WHERE handler NOT LIKE 'penalty.%';
