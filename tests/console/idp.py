"""A small real OpenID Connect provider for tests, served over HTTP on loopback.

Discovery document, an authorize endpoint that signs the user in at once and redirects back
with a code, a token endpoint that checks the PKCE verifier (S256) and the redirect URI, and
the JWKS its RS256 ID and access tokens verify against.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse

from tests.harness import free_port

KEY_ID = "test-key-1"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class Provider:
    """The IdP's state: who signs in, issued codes, and what the token endpoint saw."""

    issuer: str
    claims: dict[str, Any]
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    wrong_nonce: bool = False

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(response_type: str, client_id: str, redirect_uri: str, state: str,
                            nonce: str, code_challenge: str,
                            code_challenge_method: str) -> RedirectResponse:
            if response_type != "code" or code_challenge_method != "S256":
                raise HTTPException(400, "authorization code with PKCE S256 only")
            code = secrets.token_urlsafe(16)
            self.grants[code] = Grant(client_id, redirect_uri, code_challenge, nonce)
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}",
                                    status_code=302)

        @app.post("/token")
        async def token(grant_type: Annotated[str, Form()], code: Annotated[str, Form()],
                        redirect_uri: Annotated[str, Form()],
                        code_verifier: Annotated[str, Form()],
                        client_id: Annotated[str, Form()]) -> JSONResponse:
            self.token_requests.append({"code": code, "code_verifier": code_verifier,
                                        "client_id": client_id})
            grant = self.grants.pop(code, None)
            digest = base64.urlsafe_b64encode(
                hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or grant_type != "authorization_code" or digest != grant.challenge
                    or redirect_uri != grant.redirect_uri or client_id != grant.client_id):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            base = {"iss": self.issuer, "iat": now, "exp": now + 600, **self.claims}
            nonce = "not-the-one-sent" if self.wrong_nonce else grant.nonce
            return JSONResponse({
                "token_type": "Bearer", "expires_in": 600,
                "access_token": self.sign({**base, "aud": "revmentor"}),
                "id_token": self.sign({**base, "aud": client_id, "nonce": nonce})})

        return app


@contextmanager
def serving(claims: dict[str, Any]) -> Iterator[Provider]:
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", claims)
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test IdP did not start"
        time.sleep(0.01)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
