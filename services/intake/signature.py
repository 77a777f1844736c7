"""The customer's signature on the record (SPEC §6): which media may sign
it, the binding a step writes, and what a finished bind changes.

Pure: no I/O. The bind itself and its retries are shared.signature_binding's
(services/intake/binding.py is intake's store of bindings).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.intake.model import RECORD_TYPE, Binding, Complaint, TimelineEntry, record_hash
from shared.contracts.intake.vocabulary import SIG_REFUSED, SIG_SIGNED
from shared.errors import Coded, InvalidInput


def new_binding(complaint: Complaint, by: str | None, now: datetime) -> Binding:
    """A pending binding of the complaint's signature, beside the step's record."""
    if complaint.signature_media_id is None:
        raise ValueError(f"complaint {complaint.id} names no signature to bind")
    return Binding(complaint.signature_media_id, complaint.id, RECORD_TYPE,
                   record_hash(complaint), by, "pending", now, now)


def check_signature_media(media: Mapping[str, Any] | None, field_name: str,
                          complaint_id: str | None = None) -> Mapping[str, Any]:
    """The media service's answer for a signature id: must be a signature,
    bound to nothing, and not uploaded for another complaint."""
    if media is None:
        raise InvalidInput({field_name: [Coded(
            "须提供客户签名 (the customer's signature is required)", "signature_needed")]})
    if media.get("kind") != "signature":
        raise InvalidInput({field_name: [Coded(
            f"该文件不是签名（类型为 {media.get('kind')}）(this media is not a signature)",
            "not_signature")]})
    binding = media.get("binding")
    if binding:
        raise InvalidInput({field_name: [Coded(
            f"该签名已用于 {binding.get('record_type')} {binding.get('record_id')} "
            "(signature already attached to another record)", "signature_used")]})
    owner = media.get("complaint_id")
    if owner and owner != complaint_id:
        raise InvalidInput({field_name: [Coded(
            f"该签名属于投诉 {owner} (signature uploaded for another complaint)",
            "signature_other_complaint")]})
    return media


def signature_bound(complaint: Complaint, binding: Binding,
                    now: datetime) -> tuple[Complaint, Binding, TimelineEntry]:
    """Media confirmed the bind: the record is signed."""
    new = replace(complaint, signature_status=SIG_SIGNED, updated_at=now)
    entry = TimelineEntry(now, None, "system", "signature_bound", complaint.state,
                          complaint.state, complaint.order_round,
                          details={"media_id": binding.media_id,
                                   "record_sha256": binding.record_sha256})
    return new, replace(binding, state="bound", bound_at=now, last_error=None), entry


def signature_refused(complaint: Complaint, binding: Binding, error: str,
                      now: datetime) -> tuple[Complaint, Binding, TimelineEntry]:
    """Media refused the bind (the signature went to another record meanwhile)."""
    new = replace(complaint, signature_status=SIG_REFUSED, updated_at=now)
    entry = TimelineEntry(now, None, "system", "signature_refused", complaint.state,
                          complaint.state, complaint.order_round, note=error,
                          details={"media_id": binding.media_id})
    return new, replace(binding, state="refused", last_error=error), entry
