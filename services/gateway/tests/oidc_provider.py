"""A small OpenID Connect provider on a real local HTTP server, for the
sign-in tests: discovery document, JWKS, an authorization endpoint that signs
in `user` at once (no page), and a token endpoint that checks the client's
secret, the code, the redirect URI and PKCE's verifier before it signs an ID
token with an RSA key made here. Knobs let a test make the token wrong
(`claims_override`: nonce, aud, exp ...) or the provider deny or vanish."""
import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID, CLIENT_SECRET = "ccrm-console", "client-secret-0123456789"


class OidcProvider:
    def __init__(self, user=None):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.user = dict(user or {})          # the claims of who signs in at the provider
        self.claims_override = {}             # changes to the next ID tokens' claims
        self.deny = None                      # an `error` the authorization endpoint answers
        self.sign_with = None                 # another key to sign with (not in the JWKS)
        self.codes = {}                       # code -> what the authorization request said
        self.token_requests = []
        self.server = make_server("127.0.0.1", 0, self.app)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"

    def config(self, redirect_url, **changes):
        """The gateway's `OIDC:` section for this provider."""
        return dict({"enabled": True, "issuer": self.issuer, "client_id": CLIENT_ID,
                     "client_secret": CLIENT_SECRET, "redirect_url": redirect_url,
                     "scope": "openid profile phone", "person_claim": "preferred_username",
                     "person_match": "person_id", "timeout": 3}, **changes)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @Request.application
    def app(self, request):
        route = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                 "/authorize": self.authorize, "/token": self.token}.get(request.path)
        return route(request) if route else self.json(404, {"error": "not_found"})

    @staticmethod
    def json(status, body):
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def discovery(self, request):
        return self.json(200, {
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"]})

    def jwks(self, request):
        return self.json(200, KeySet([self.key]).as_dict(private=False))

    def authorize(self, request):
        args = request.args
        problems = [name for name, want in (("response_type", "code"), ("client_id", CLIENT_ID),
                                            ("code_challenge_method", "S256"))
                    if args.get(name) != want]
        problems += [name for name in ("redirect_uri", "state", "nonce", "code_challenge")
                     if not args.get(name)]
        if "openid" not in (args.get("scope") or "").split():
            problems.append("scope")
        if problems:
            return self.json(400, {"error": "invalid_request", "fields": problems})
        if self.deny:
            query = {"error": self.deny, "state": args["state"]}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = dict(args)
            query = {"code": code, "state": args["state"]}
        return Response(status=302, headers={
            "Location": f"{args['redirect_uri']}?{urlencode(query)}"})

    def token(self, request):
        form = request.form
        self.token_requests.append(dict(form))
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {basic}":
            return self.json(401, {"error": "invalid_client"})
        asked = self.codes.pop(form.get("code"), None)
        if asked is None or form.get("grant_type") != "authorization_code":
            return self.json(400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier") or ""
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != asked["code_challenge"] or form.get("redirect_uri") != \
                asked["redirect_uri"]:
            return self.json(400, {"error": "invalid_grant", "error_description": "PKCE"})
        now = int(time.time())
        claims = dict({"iss": self.issuer, "aud": CLIENT_ID, "sub": "u-" + secrets.token_hex(4),
                       "iat": now, "exp": now + 300, "nonce": asked["nonce"]}, **self.user)
        claims.update(self.claims_override)
        key = self.sign_with or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return self.json(200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                               "expires_in": 300, "id_token": id_token})


class ProviderProcess:
    """The same provider in a process of its own, for the browser tests: the
    test process runs eventlet (nameko's plugin) and Playwright's sync calls
    block it, so a server thread there would never answer Chromium. The
    test changes who signs in through POST /_control (`user` changes)."""

    def __init__(self, user):
        import subprocess
        import sys
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.gateway.tests.oidc_provider", json.dumps(user)],
            stdout=subprocess.PIPE, text=True)
        self.issuer = self.process.stdout.readline().strip()
        assert self.issuer.startswith("http://"), self.issuer

    def config(self, redirect_url, **changes):
        return OidcProvider.config(self, redirect_url, **changes)

    def change_user(self, **changes):
        import requests
        requests.post(self.issuer + "/_control", json=changes, timeout=10).raise_for_status()

    def close(self):
        self.process.terminate()
        self.process.wait(10)


def main():
    import sys
    provider = OidcProvider(json.loads(sys.argv[1]))
    original = provider.server.app

    def app(environ, start_response):
        request = Request(environ)
        if request.path == "/_control" and request.method == "POST":
            provider.user.update(request.get_json())
            return OidcProvider.json(200, provider.user)(environ, start_response)
        return original(environ, start_response)

    provider.server.app = app
    print(provider.issuer, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
