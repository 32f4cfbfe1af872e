"""A real OAuth2 authorization server for smokegate's tests: Authlib's AuthorizationServer
with its ClientCredentialsGrant (RFC 6749 4.4) on Flask, and a resource protected by Authlib's
ResourceProtector with its BearerTokenValidator (RFC 6750). Only the storage is ours (two
in-memory clients, tokens in a dict), as Authlib asks of every application.

Clients: `smoke-client` / `smoke-client-secret-123` (client_secret_basic) and `post-client` /
`post-client-secret-456` (client_secret_post); both may ask for `read` and `write`.
Token lifetime: SMOKE_TOKEN_TTL seconds (default 3600).

Routes: POST /oauth/token (Authlib), GET /api/me (protected: the client id, the scope, the
`audience` the token request carried and the number of the token used), GET /stats (tokens issued, in order: for the tests to count).
"""

import os
import threading
import time

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http only

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask, jsonify

app = Flask(__name__)
app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {
    "client_credentials": int(os.environ.get("SMOKE_TOKEN_TTL", "3600"))
}


class Client(ClientMixin):
    def __init__(self, client_id, secret, method):
        self.client_id = client_id
        self.secret = secret
        self.method = method

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = {"read", "write"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return client_secret == self.secret

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method == self.method

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


CLIENTS = {
    "smoke-client": Client("smoke-client", "smoke-client-secret-123", "client_secret_basic"),
    "post-client": Client("post-client", "post-client-secret-456", "client_secret_post"),
}


class Token(TokenMixin):
    def __init__(self, number, client_id, data):
        self.number = number
        self.client_id = client_id
        self.data = data
        self.issued_at = time.time()

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.data.get("scope", "")

    def get_expires_in(self):
        return self.data.get("expires_in", 0)

    def is_expired(self):
        ttl = self.data.get("expires_in")
        return bool(ttl) and time.time() > self.issued_at + ttl

    def is_revoked(self):
        return False


LOCK = threading.Lock()
TOKENS = {}
ISSUED = []


def query_client(client_id):
    return CLIENTS.get(client_id)


def save_token(token, request):
    with LOCK:
        number = len(ISSUED) + 1
        audience = request.form.get("audience")
        ISSUED.append(
            {"number": number, "client_id": request.client.get_client_id(),
             "scope": token.get("scope", ""), "audience": audience,
             "access_token": token["access_token"]}
        )
        t = Token(number, request.client.get_client_id(), token)
        t.audience = audience
        TOKENS[token["access_token"]] = t


server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


server.register_grant(ClientCredentialsGrant)


class Validator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return TOKENS.get(token_string)


require_oauth = ResourceProtector()
require_oauth.register_token_validator(Validator())


@app.route("/oauth/token", methods=["POST"])
def issue_token():
    return server.create_token_response()


@app.route("/api/me")
@require_oauth()
def me():
    t = current_token
    return jsonify(
        client_id=t.client_id, scope=t.get_scope(), audience=t.audience, token_number=t.number
    )


@app.route("/stats")
def stats():
    with LOCK:
        return jsonify(issued=len(ISSUED), tokens=list(ISSUED))
