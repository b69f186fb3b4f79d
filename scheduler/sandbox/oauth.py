"""X's authorisation servers, played by the sandbox: the OAuth 1.0a PIN flow and OAuth 2.0
with PKCE. Approval needs no password: the `username` query parameter names the account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from html import escape
from typing import Any
from urllib.parse import urlencode

from scheduler.sandbox.accounts_store import Account, new_secret
from scheduler.sandbox.control import ACCESS_TOKEN_LIFETIME, issue_oauth1, issue_oauth2
from scheduler.sandbox.state import SandboxState
from scheduler.sandbox.wire import (
    ApiError,
    Call,
    Reply,
    form_reply,
    json_reply,
    redirect,
    text_reply,
)

REQUEST_TOKEN = "oauth1_request"
CODE = "oauth2_code"
CODE_LIFETIME = 600.0
REQUEST_TOKEN_LIFETIME = 900.0
HTML = "text/html; charset=utf-8"


# ---- OAuth 1.0a ------------------------------------------------------------------------------


def request_token(state: SandboxState, call: Call) -> Reply:
    params = call.form()
    callback = params.get("oauth_callback")
    if not params.get("oauth_consumer_key") or not callback:
        raise _oauth1_error("oauth_consumer_key and oauth_callback are required")
    token, secret = new_secret(), new_secret()
    state.store.add_grant(token, REQUEST_TOKEN, {"callback": callback, "secret": secret},
                          call.now)
    return form_reply(200, {"oauth_token": token, "oauth_token_secret": secret,
                            "oauth_callback_confirmed": "true"})


def authorize_oauth1(state: SandboxState, call: Call) -> Reply:
    token = call.arg("oauth_token") or ""
    grant = state.store.grant(token, REQUEST_TOKEN)
    if grant is None or call.now - grant[1] > REQUEST_TOKEN_LIFETIME:
        raise ApiError(_page(400, "This request token is unknown or has expired."))
    account = _approving_account(state, call, {"oauth_token": token})
    data = {**grant[0], "account_id": account.id, "verifier": f"{secrets.randbelow(10**7):07d}"}
    state.store.update_grant(token, data)
    if data["callback"] != "oob":
        query = urlencode({"oauth_token": token, "oauth_verifier": data["verifier"]})
        return redirect(_with_query(data["callback"], query))
    if "application/json" in (call.headers.get("Accept") or ""):
        return json_reply(200, {"pin": data["verifier"], "username": account.username})
    return _page(200, f"Sandbox: @{escape(account.username)} authorised the app. Enter this "
                      f'PIN in the app: <code id="pin">{data["verifier"]}</code>')


def access_token(state: SandboxState, call: Call) -> Reply:
    params = call.form()
    token = params.get("oauth_token", "")
    grant = state.store.grant(token, REQUEST_TOKEN)
    verifier = (grant[0].get("verifier") if grant else None) or ""
    if not verifier or not hmac.compare_digest(verifier, params.get("oauth_verifier", "")):
        raise _oauth1_error("Invalid oauth_verifier parameter")
    if state.store.take_grant(token, REQUEST_TOKEN) is None:
        raise _oauth1_error("Invalid request token")
    account = _account(state, grant[0]["account_id"] if grant else "")
    access, secret = issue_oauth1(state, account, call.now)
    return form_reply(200, {"oauth_token": access, "oauth_token_secret": secret,
                            "user_id": account.id, "screen_name": account.username})


def _oauth1_error(message: str) -> ApiError:
    return ApiError(text_reply(401, f"Error processing your OAuth request: {message}"))


# ---- OAuth 2.0 with PKCE ---------------------------------------------------------------------


def authorize_oauth2(state: SandboxState, call: Call) -> Reply:
    params = {k: v[0] for k, v in call.query.items() if v}
    required = ("response_type", "client_id", "redirect_uri", "state", "code_challenge")
    missing = [name for name in required if not params.get(name)]
    method = params.get("code_challenge_method", "plain")
    if missing or params["response_type"] != "code" or method not in ("S256", "plain"):
        raise ApiError(_page(400, "Something is wrong with this authorisation request: "
                                  f"{escape(', '.join(missing) or 'response_type or method')}"))
    account = _approving_account(state, call, {k: v for k, v in params.items()
                                               if k != "username"})
    code = new_secret()
    state.store.add_grant(code, CODE, {
        "account_id": account.id, "client_id": params["client_id"],
        "redirect_uri": params["redirect_uri"], "scope": params.get("scope", ""),
        "challenge": params["code_challenge"], "method": method,
    }, call.now)
    query = urlencode({"state": params["state"], "code": code})
    return redirect(_with_query(params["redirect_uri"], query))


def oauth2_token(state: SandboxState, call: Call) -> Reply:
    params = call.form()
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        account, scope = _exchange_code(state, call, params)
    elif grant_type == "refresh_token":
        account, scope = _exchange_refresh(state, call, params.get("refresh_token", ""))
    else:
        raise _oauth2_error("unsupported_grant_type", "grant_type is not supported.")
    access, refresh = issue_oauth2(state, account, call.now, scope)
    return json_reply(200, {"token_type": "bearer", "expires_in": ACCESS_TOKEN_LIFETIME,
                            "access_token": access, "refresh_token": refresh, "scope": scope})


def _exchange_code(state: SandboxState, call: Call,
                   params: dict[str, str]) -> tuple[Account, str]:
    code = params.get("code", "")
    found = state.store.grant(code, CODE)
    invalid = _oauth2_error("invalid_request",
                            "Value passed for the authorization code was invalid.")
    if found is None or call.now - found[1] > CODE_LIFETIME:
        raise invalid
    grant = found[0]
    if params.get("redirect_uri") != grant["redirect_uri"]:
        raise invalid
    if not _verifier_matches(params.get("code_verifier", ""), grant["challenge"],
                             grant["method"]):
        raise _oauth2_error("invalid_request", "Value passed for the code_verifier was invalid.")
    if state.store.take_grant(code, CODE) is None:
        raise invalid
    return _account(state, grant["account_id"]), grant["scope"]


def _exchange_refresh(state: SandboxState, call: Call, token: str) -> tuple[Account, str]:
    found = state.store.token(token, ("oauth2_refresh",), call.now)
    if found is None or not state.store.use_token(token):
        raise _oauth2_error("invalid_request", "Value passed for the token was invalid.")
    return found.account, found.scope or ""


def _verifier_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return bool(verifier) and hmac.compare_digest(verifier, challenge)


def _oauth2_error(error: str, description: str) -> ApiError:
    return ApiError(json_reply(400, {"error": error, "error_description": description}))


# ---- shared ----------------------------------------------------------------------------------


def _approving_account(state: SandboxState, call: Call, keep: dict[str, Any]) -> Account:
    """The account named by `username`; without one, a form that asks for it."""
    username = call.arg("username")
    if not username:
        hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(str(v))}">'
                         for k, v in keep.items())
        raise ApiError(_page(200, f'<form method="get" action="{escape(call.path)}">{hidden}'
                                  '<label>Approve as sandbox account <input name="username">'
                                  '</label> <button>Authorise app</button></form>'))
    account = state.store.account(username=username)
    if account is None:
        raise ApiError(_page(404, f"There is no sandbox account @{escape(username)}."))
    return account


def _account(state: SandboxState, account_id: str) -> Account:
    account = state.store.account(id=account_id)
    if account is None:
        raise _oauth1_error("The account no longer exists")
    return account


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _page(status: int, body: str) -> Reply:
    return text_reply(status, "<!doctype html><html lang=\"en\"><head><title>Chorus sandbox: "
                              f"authorise</title></head><body><p>{body}</p></body></html>", HTML)
