"""Sign-in through the group's OpenID Connect provider (issue 14): the
authorization-code flow with PKCE (S256), `state` and `nonce`, as a client of
authlib; the ID token checked with joserfc against the provider's JWKS
(signature, iss, aud, azp, exp, iat, nonce); the configured claim mapped to
a person of the directory (routes/oidc.py does the HTTP and the session).

Off unless the config's `OIDC:` section says `enabled: true`. The provider's
times (the ID token's exp and iat) are real time: `now` here is always the
system's, never the simulation clock an admin can move.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from shared.config import as_bool
from shared.validation import normalise_phone

DISCOVERY_PATH = "/.well-known/openid-configuration"
MATCHES = ("person_id", "mobile")
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
CACHE_SECONDS = 3600          # discovery document and JWKS, re-read sooner for an unknown kid
LEEWAY_SECONDS = 60           # clock skew between us and the provider

# Why a sign-in failed: the reason code the sign-in page shows in words
# (services/gateway/web/static/js/pages/signin.js). Nothing else of the
# failure reaches the browser; the log has the detail.
NOT_CONFIGURED = "not_configured"
PROVIDER = "provider"          # unreachable, or an answer we cannot use
STATE = "state"                # unknown, used, expired, or not this browser's
DENIED = "denied"              # the person cancelled or the provider refused
TOKEN = "token"                # the ID token failed a check
UNKNOWN_PERSON = "unknown_person"
REASONS = (NOT_CONFIGURED, PROVIDER, STATE, DENIED, TOKEN, UNKNOWN_PERSON)


class OidcFailure(Exception):
    """A sign-in that cannot go on: `reason` (one of REASONS) for the page,
    the message for the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OidcSettings:
    """The config's `OIDC:` section."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_url: str
    discovery_url: str
    scope: str = "openid profile"
    person_claim: str = "preferred_username"
    person_match: str = "person_id"
    timeout: float = 5.0
    login_seconds: int = 600

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> OidcSettings | None:
        """None when OIDC is off; ValueError naming what an enabled one lacks."""
        section = (config or {}).get("OIDC") or {}
        if not as_bool(section.get("enabled") or False):
            return None

        def text(name: str, default: str = "") -> str:
            value = section.get(name)
            return default if value is None or value == "" else str(value).strip()

        issuer = text("issuer").rstrip("/")
        settings = cls(
            issuer=issuer, client_id=text("client_id"), client_secret=text("client_secret"),
            redirect_url=text("redirect_url"),
            discovery_url=text("discovery_url", issuer + DISCOVERY_PATH if issuer else ""),
            scope=text("scope", "openid profile"),
            person_claim=text("person_claim", "preferred_username"),
            person_match=text("person_match", "person_id"),
            timeout=float(text("timeout", "5")))
        missing = [name for name in ("issuer", "client_id", "redirect_url")
                   if not getattr(settings, name)]
        if missing:
            raise ValueError("OIDC is enabled but lacks " + ", ".join(
                f"OIDC.{name}" for name in missing))
        if settings.person_match not in MATCHES:
            raise ValueError(f"OIDC.person_match must be one of {', '.join(MATCHES)}")
        if "openid" not in settings.scope.split():
            raise ValueError("OIDC.scope must include openid")
        return settings

    @property
    def callback_path(self) -> str:
        return urlsplit(self.redirect_url).path


# -- the provider's metadata -----------------------------------------------------------------

@dataclass
class ProviderMetadata:
    """The discovery document and the JWKS, read on first use and cached
    (CACHE_SECONDS; the JWKS again at once when a token names a key we do
    not have: the provider rotated its keys)."""

    settings: OidcSettings
    session: requests.Session = field(default_factory=requests.Session)
    clock: Callable[[], float] = time.monotonic
    _document: tuple[float, dict[str, Any]] | None = None
    _keys: tuple[float, KeySet] | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = self.session.get(url, timeout=self.settings.timeout)
        except requests.RequestException as exc:
            raise OidcFailure(PROVIDER, f"OIDC provider unreachable at {url}: "
                                        f"{type(exc).__name__}") from None
        if response.status_code != 200:
            raise OidcFailure(PROVIDER, f"OIDC provider answered {response.status_code} "
                                        f"for {url}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise OidcFailure(PROVIDER, f"OIDC provider's {url} is not a JSON object")
        return body

    def document(self) -> dict[str, Any]:
        if self._document is None or self.clock() - self._document[0] > CACHE_SECONDS:
            document = self._get(self.settings.discovery_url)
            if document.get("issuer", "").rstrip("/") != self.settings.issuer:
                raise OidcFailure(PROVIDER, f"the discovery document's issuer "
                                            f"{document.get('issuer')!r} is not OIDC.issuer")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not document.get(name):
                    raise OidcFailure(PROVIDER, f"the discovery document lacks {name}")
            self._document = (self.clock(), document)
        return self._document[1]

    def keys(self, kid: str | None) -> KeySet:
        cached = self._keys
        if (cached is None or self.clock() - cached[0] > CACHE_SECONDS
                or (kid is not None and not _has_kid(cached[1], kid))):
            jwks = self._get(self.document()["jwks_uri"])
            try:
                cached = (self.clock(), KeySet.import_key_set(jwks))  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                raise OidcFailure(PROVIDER, f"the provider's JWKS cannot be read: {exc}") \
                    from None
            self._keys = cached
        return cached[1]


def _has_kid(key_set: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in key_set.keys)


# -- the flow --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginAttempt:
    """What the start keeps until the callback: `state` (also in the
    browser's cookie), the ID token's `nonce`, PKCE's `code_verifier`."""

    state: str
    nonce: str
    code_verifier: str


def new_attempt() -> LoginAttempt:
    return LoginAttempt(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                        secrets.token_urlsafe(48))


def _client(settings: OidcSettings) -> OAuth2Session:
    return OAuth2Session(settings.client_id, settings.client_secret or None,
                           scope=settings.scope, redirect_uri=settings.redirect_url,
                           code_challenge_method="S256",
                           token_endpoint_auth_method="client_secret_basic"
                           if settings.client_secret else "none")


def authorization_url(settings: OidcSettings, metadata: ProviderMetadata,
                      attempt: LoginAttempt) -> str:
    """Where the browser goes to sign in at the provider."""
    url, _ = _client(settings).create_authorization_url(
        metadata.document()["authorization_endpoint"], state=attempt.state,
        nonce=attempt.nonce, code_verifier=attempt.code_verifier)
    return str(url)


def exchange_code(settings: OidcSettings, metadata: ProviderMetadata, code: str,
                  attempt: LoginAttempt) -> str:
    """The authorization code (and PKCE's verifier) for the ID token."""
    endpoint = metadata.document()["token_endpoint"]
    try:
        token = _client(settings).fetch_token(
            endpoint, grant_type="authorization_code", code=code,
            code_verifier=attempt.code_verifier, timeout=settings.timeout)
    except requests.RequestException as exc:
        raise OidcFailure(PROVIDER, f"token endpoint unreachable: {type(exc).__name__}") \
            from None
    except Exception as exc:  # noqa: BLE001 - authlib's OAuth errors and odd answers alike
        raise OidcFailure(PROVIDER, f"token endpoint refused the code: {exc}") from None
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str) or not id_token:
        raise OidcFailure(TOKEN, "the token endpoint's answer has no id_token")
    return id_token


def verify_id_token(settings: OidcSettings, metadata: ProviderMetadata, id_token: str,
                    nonce: str, now: float) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS), iss,
    aud, azp, exp, iat and nonce are right; OidcFailure(TOKEN) otherwise.
    `now`: real time, seconds since the epoch."""
    def provider_keys(guest: Any) -> KeySet:
        return metadata.keys(guest.headers().get("kid"))

    try:
        claims = jwt.decode(id_token, provider_keys, algorithms=ALGORITHMS).claims
        JWTClaimsRegistry(
            now=int(now), leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce}).validate(claims)
    except (JoseError, ValueError) as exc:
        raise OidcFailure(TOKEN, f"the ID token failed its check: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.client_id:
        raise OidcFailure(TOKEN, "the ID token has several audiences and azp is not us")
    if claims["iat"] > now + LEEWAY_SECONDS:
        raise OidcFailure(TOKEN, "the ID token was issued in the future")
    return dict(claims)


def person_key(settings: OidcSettings, claims: Mapping[str, Any]) -> str:
    """The claim naming the person, as the directory keys people: a person id,
    or a mainland mobile number without its +86."""
    value = claims.get(settings.person_claim)
    if not isinstance(value, str | int) or not str(value).strip():
        raise OidcFailure(UNKNOWN_PERSON, f"the ID token has no {settings.person_claim} claim")
    text = str(value).strip()
    if settings.person_match == "mobile":
        number = normalise_phone(text)     # +86 138 ... -> 138...
        if number is None:
            raise OidcFailure(UNKNOWN_PERSON, f"{settings.person_claim} is not a phone number")
        return number
    return text
