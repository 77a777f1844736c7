-- Issue 13, the articles still missing: the customer's signature on the
-- record (Art. 13: the 09:30 reminder lists a specialist's complaints still
-- 客户未签名), when the complaint was escalated (Art. 32, 33: the major lists
-- and the meeting's deadline), and a complaint voided by mistake (its clocks
-- stop, no list shows it).
ALTER TABLE sla.complaints ADD COLUMN signature_status text;
ALTER TABLE sla.complaints ADD COLUMN escalated_at timestamptz;
ALTER TABLE sla.complaints ADD COLUMN voided_at timestamptz;
-- The daily jobs also read the open complaints not routed yet that the 09:30
-- reminder (unsigned) or the major lists (escalated) name.
CREATE INDEX complaints_unsigned_or_escalated ON sla.complaints (id)
    WHERE closed_at IS NULL AND voided_at IS NULL
      AND (signature_status = 'pending' OR escalation_level IS NOT NULL);
