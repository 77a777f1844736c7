"""The SMS loop (a part of SlaEngine): send the queued notifications that are
due, each result recorded with its notification.sent / notification.failed
event in the same transaction; a failed one is retried with a back-off,
unless the provider said sending it again cannot succeed (a `permanent`
failure: an invalid or barred number), which stays failed with no next attempt."""
import logging
import time
from datetime import timedelta

from services.sla import notification_repository as sms_queue
from services.sla.sms import SmsMessage

log = logging.getLogger(__name__)

NOTIFY_BACKOFF_FIRST = timedelta(seconds=30)
NOTIFY_BACKOFF_MAX = timedelta(hours=1)


def notify_backoff(attempts):
    """30 s, 1 min, 2 min ... at most 1 h between attempts; never given up."""
    delay = NOTIFY_BACKOFF_FIRST * (2 ** max(attempts - 1, 0))
    return min(delay, NOTIFY_BACKOFF_MAX)


class NotificationSender:
    """Needs the engine's `db` and `outbox`."""

    def send_all_due(self, gateway, now, limit=50, max_seconds=2.0):
        """Send batches while they come full (or for at most `max_seconds`)."""
        started, total = time.monotonic(), (0, 0)
        while True:
            sent, failed = self.send_notifications(gateway, now, limit)
            total = (total[0] + sent, total[1] + failed)
            if sent + failed < limit or time.monotonic() - started > max_seconds:
                return total

    def send_notifications(self, gateway, now, limit=20):
        """Send due notifications; returns (sent, failed)."""
        sent = failed = 0
        with self.db.transaction() as conn:
            for row in sms_queue.claim_notifications(conn, now, limit):
                notification_id = str(row["id"])
                common = {"notification_id": notification_id,
                          "recipient_person_id": row["recipient_person_id"],
                          "template": row["template"], "complaint_id": row["complaint_id"],
                          "provider": gateway.name, "attempts": row["attempts"] + 1}
                if not row["mobile"]:
                    error = "收件人无手机号 (no mobile number for the recipient)"
                    sms_queue.notification_failed(conn, notification_id, now, gateway.name,
                                            error, None)
                    self.outbox.add(conn, "notification.failed", dict(
                        common, error=error, next_attempt_at=None), occurred_at=now,
                        complaint_id=row["complaint_id"])
                    failed += 1
                    continue
                result = gateway.send(SmsMessage(notification_id, row["mobile"],
                                                 row["template"], row["params"], row["text"]))
                if result.ok:
                    sms_queue.notification_sent(conn, notification_id, now, gateway.name,
                                          result.provider_id)
                    self.outbox.add(conn, "notification.sent", dict(
                        common, provider_id=result.provider_id, sent_at=now),
                        occurred_at=now, complaint_id=row["complaint_id"])
                    sent += 1
                else:
                    retry_at = None if result.permanent else \
                        now + notify_backoff(row["attempts"] + 1)
                    sms_queue.notification_failed(conn, notification_id, now, gateway.name,
                                            result.error, retry_at)
                    self.outbox.add(conn, "notification.failed", dict(
                        common, error=result.error, next_attempt_at=retry_at),
                        occurred_at=now, complaint_id=row["complaint_id"])
                    log.warning("SMS %s failed (attempt %s): %s", notification_id,
                                row["attempts"] + 1, result.error)
                    failed += 1
        return sent, failed
