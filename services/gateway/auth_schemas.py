"""Request and answer schemas of sign-in, sessions and API tokens
(routes/auth.py); the OpenAPI document is built from them."""
from marshmallow import ValidationError, fields, validate

from shared.validation import Form, Phone, Text, choice, optional_text
from shared.validation import messages as field_messages

_MOBILE_ONLY = "须为手机号，如 13812345678 (a CN mobile number, 11 digits)"


class Mobile(Phone):
    """A CN mobile number (a landline cannot receive the code), normalised."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            phone = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise ValidationError(_MOBILE_ONLY) from None
        if not phone.startswith("1"):
            raise ValidationError(_MOBILE_ONLY)
        return phone


class Code(fields.String):
    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", field_messages(invalid="须为文本 (must be text)"))
        super().__init__(validate=validate.Regexp(
            r"^\d{6}$", error="验证码为 6 位数字 (the code is 6 digits)"), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


# -- sign-in -------------------------------------------------------------------------------

class CodeRequest(Form):
    mobile = Mobile(required=True, metadata={"description": "the person's mobile number"})


class CodeSent(Form):
    message = fields.String(metadata={"description": "the same for every number"})
    expires_at = fields.AwareDateTime(metadata={"description": "when a code sent now expires"})
    resend_after = fields.Integer(metadata={"description": "seconds before another code"})
    valid_minutes = fields.Integer(metadata={"description": "the code's life"})


class SessionRequest(Form):
    mobile = Mobile(required=True)
    code = Code(required=True, metadata={"description": "the 6 digits of the SMS"})


class SessionView(Form):
    token = fields.String(metadata={"description": "Authorization: Bearer <token>"})
    expires_at = fields.AwareDateTime()
    kind = fields.String(metadata={
        "description": "session (SMS code or the group's OIDC provider) or demo (picker)"})
    person_id = fields.String()
    name = fields.String()


class OidcInfo(Form):
    enabled = fields.Boolean(metadata={"description": "OIDC is configured (OIDC.enabled)"})
    start_url = fields.String(allow_none=True, metadata={
        "description": "where the sign-in page's 使用集团账号登录 button goes"})


class OidcHandoff(Form):
    handoff = Text(100, required=True, metadata={
        "description": "the one-time code /signin received from the callback (60 s)"})


class SignedOut(Form):
    signed_out = fields.Boolean()


class SessionsRevoked(Form):
    person_id = fields.String()
    revoked = fields.Integer(metadata={"description": "sessions signed out"})


# -- simulation mode's picker --------------------------------------------------------------

class DemoPerson(Form):
    person_id = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    role_labels = fields.List(fields.String())
    unit_name = fields.String(allow_none=True)


class DemoPeople(Form):
    items = fields.List(fields.Nested(DemoPerson))


class DemoSessionRequest(Form):
    person_id = Text(100, required=True)


# -- API tokens ----------------------------------------------------------------------------

TOKEN_KINDS = ("api", "session", "demo")


class TokenRequest(Form):
    person_id = Text(100, required=True, metadata={"description": "whom the token acts as"})
    label = Text(100, required=True, metadata={"description": "what uses it, e.g. 报表同步"})
    valid_days = fields.Integer(load_default=None, allow_none=True,
                                validate=validate.Range(min=1, max=365),
                                error_messages=field_messages(invalid="须为整数 (an integer)"),
                                metadata={"description": "lifetime in real days (default 30)"})


class TokenQuery(Form):
    person_id = optional_text(100)
    kind = choice(TOKEN_KINDS, "种类", load_default=None, allow_none=True)
    state = choice(("active", "all"), "状态", load_default="active")
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           error_messages=field_messages(invalid="须为整数 (an integer)"))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0),
                            error_messages=field_messages(invalid="须为整数 (an integer)"))


class TokenView(Form):
    id = fields.Integer()
    person_id = fields.String()
    kind = fields.String(validate=validate.OneOf(TOKEN_KINDS))
    label = fields.String(allow_none=True)
    issued_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    issued_by = fields.String(allow_none=True)


class TokenIssued(TokenView):
    token = fields.String(metadata={"description": "shown this once; only its hash is kept"})


class TokenPage(Form):
    items = fields.List(fields.Nested(TokenView))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
