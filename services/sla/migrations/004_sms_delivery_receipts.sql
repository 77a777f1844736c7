-- SMS delivery receipts (issue 14; services/sla/sms_receipts.py): what the
-- provider later reported of a message it accepted (status 'sent'), matched
-- by the provider's id kept when it was sent (provider_id: Alibaba Cloud's
-- BizId, Tencent Cloud's SerialNo / sid, the relay's message_id).
--   delivery_status       null: no receipt yet; delivered | undelivered
--   delivered_at          the provider's time of it (the phone's receipt)
--   delivery_error        the provider's code and words for an undelivered one
--   delivery_reported_at  when the receipt reached us (the shared clock)
ALTER TABLE sla.notifications
    ADD COLUMN delivery_status text CHECK (delivery_status IN ('delivered', 'undelivered')),
    ADD COLUMN delivered_at timestamptz,
    ADD COLUMN delivery_error text,
    ADD COLUMN delivery_reported_at timestamptz;
CREATE INDEX notifications_provider_id ON sla.notifications (provider, provider_id)
    WHERE provider_id IS NOT NULL;
