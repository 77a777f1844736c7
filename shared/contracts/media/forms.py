"""The requests of media's RPC methods, as the service loads them (with
shared.validation.load_input): a caller may check its request with the same
classes before it sends it."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from shared.contracts.media.files import kind_stage_errors, signature_kind_errors
from shared.validation import NOT_TEXT, Form, Text, messages, optional_text

ID_LENGTH = 64
RECORD_ID_LENGTH = 100

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
SHA256_MESSAGE = "须为 64 位十六进制 SHA-256 (must be a hex SHA-256)"
_MD5 = re.compile(r"[0-9a-fA-F]{32}")
MD5_MESSAGE = "须为 32 位十六进制 MD5 (must be a hex MD5)"


def _check_sha256(value: str) -> None:
    if not _SHA256.fullmatch(value):
        raise ValidationError(SHA256_MESSAGE)


def sha256_field(**kwargs: Any) -> fields.String:
    """A hex SHA-256 (either case; media keeps it lower case)."""
    # A function, not validate.Regexp: `$` would let a trailing newline through
    # and `\Z` means nothing to the OpenAPI readers; the pattern is for them.
    return fields.String(validate=_check_sha256, error_messages=messages(invalid=NOT_TEXT),
                         metadata={"pattern": "^[0-9a-fA-F]{64}$"}, **kwargs)


def _check_md5(value: str) -> None:
    if not _MD5.fullmatch(value):
        raise ValidationError(MD5_MESSAGE)


class UploadRequest(Form):
    """`upload`'s description of a file; its bytes (`content_b64`) are
    checked by media itself: not empty, within the size limit, an allowed
    type by content (files.allowed_types)."""

    # The client's name, for people only: media cleans it, never trusts it.
    filename = fields.String(allow_none=True, load_default=None,
                             error_messages=messages(invalid=NOT_TEXT))
    kind = fields.String(required=True, error_messages=messages(invalid=NOT_TEXT))
    stage = fields.String(allow_none=True, load_default=None,
                          error_messages=messages(invalid=NOT_TEXT))
    complaint_id = optional_text(ID_LENGTH)
    uploaded_by = optional_text(ID_LENGTH)
    step = optional_text(ID_LENGTH)
    # drawn | typed, a signature only (files.SIGNATURE_KINDS); none: not said
    signature_kind = fields.String(allow_none=True, load_default=None,
                                   error_messages=messages(invalid=NOT_TEXT))

    @validates_schema(skip_on_field_errors=False)  # report every field at once
    def kind_and_stage(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = {**kind_stage_errors(data.get("kind"), data.get("stage")),
                  **signature_kind_errors(data.get("kind"), data.get("signature_kind"))}
        if errors:
            raise ValidationError(errors)


class ConfirmRequest(UploadRequest):
    """`confirm_upload`: an UploadRequest, the size of the file the gateway
    wrote to its reserved place, the SHA-256 it computed and, for an S3
    place, the MD5 it sent as the PUT's `Content-MD5`. With an MD5 the store's
    own (the ETag) matches, media checks size and type from the object's first
    bytes and records the SHA-256; without one it reads the object back whole
    and compares size and SHA-256."""

    size = fields.Integer(required=True, strict=True,
                          error_messages=messages(invalid="须为整数 (must be an integer)"))
    sha256 = sha256_field(required=True)
    md5 = fields.String(allow_none=True, load_default=None, validate=_check_md5,
                        error_messages=messages(invalid=NOT_TEXT),
                        metadata={"pattern": "^[0-9a-fA-F]{32}$"})


class BindRequest(Form):
    """`bind_signature`: the record a signature confirms and its hash."""

    record_type = Text(ID_LENGTH, required=True)
    record_id = Text(RECORD_ID_LENGTH, required=True)
    record_sha256 = sha256_field(required=True)
    bound_by = optional_text(ID_LENGTH)
    complaint_id = optional_text(ID_LENGTH)


class VerifyRequest(Form):
    """`verify_signature`: the signed record's hash as it is now."""

    current_record_sha256 = sha256_field(required=True)
