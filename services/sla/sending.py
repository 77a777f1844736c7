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
        """Send due notifications; returns (sent, failed). The results and
        their events are written together once the round's messages are sent
        (same transaction as before: nothing of it commits without the rest)."""
        attempts, events = [], []
        with self.db.transaction() as conn:
            for row in sms_queue.claim_notifications(conn, now, limit):
                notification_id = str(row["id"])
                common = {"notification_id": notification_id,
                          "recipient_person_id": row["recipient_person_id"],
                          "template": row["template"], "complaint_id": row["complaint_id"],
                          "provider": gateway.name, "attempts": row["attempts"] + 1}
                if not row["mobile"]:
                    error = "收件人无手机号 (no mobile number for the recipient)"
                    attempts.append((notification_id, False, None, error, None))
                    events.append(("notification.failed", dict(
                        common, error=error, next_attempt_at=None), now, row["complaint_id"]))
                    continue
                result = gateway.send(SmsMessage(notification_id, row["mobile"],
                                                 row["template"], row["params"], row["text"]))
                if result.ok:
                    attempts.append((notification_id, True, result.provider_id, None, None))
                    events.append(("notification.sent", dict(
                        common, provider_id=result.provider_id, sent_at=now), now,
                        row["complaint_id"]))
                else:
                    retry_at = None if result.permanent else \
                        now + notify_backoff(row["attempts"] + 1)
                    attempts.append((notification_id, False, None, result.error, retry_at))
                    events.append(("notification.failed", dict(
                        common, error=result.error, next_attempt_at=retry_at), now,
                        row["complaint_id"]))
                    log.warning("SMS %s failed (attempt %s): %s", notification_id,
                                row["attempts"] + 1, result.error)
            sms_queue.record_attempts(conn, self.outbox, now, gateway.name, attempts, events)
        sent = sum(1 for attempt in attempts if attempt[1])
        return sent, len(attempts) - sent
