"""Interop check of DevWiki with the real Python clients (mwoauth, requests_oauthlib).

Usage: mwoauth_client.py <index_url> <api_url> <server> <consumer_key> <consumer_secret>

The wiki must auto-approve as Alice. Prints one JSON object with the results;
tests/interop_python.rs asserts on it. Every step is independent of the Rust
crate: mwoauth does the handshake, requests_oauthlib / oauthlib sign API calls.
"""

import json
import sys
import time
import uuid
from urllib.parse import urlparse

import requests
from mwoauth import ConsumerToken, Handshaker, OAuthException
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

UA = "devwiki-interop-test/1.0 (rocket_mediawiki_oauth tests) python-requests"


def api_error(resp):
    """The parts of an api.php error that the real server fixes."""
    try:
        body = resp.json()
    except ValueError:
        return {"status": resp.status_code, "body": resp.text[:300]}
    err = body.get("error", {})
    return {
        "status": resp.status_code,
        "header": resp.headers.get("MediaWiki-API-Error"),
        "code": err.get("code"),
        "info": err.get("info"),
        "has_docref": "*" in err,
    }


def signed_get(url, params, key, secret, token, token_secret, nonce=None, timestamp=None):
    """A request signed by oauthlib directly, so nonce and timestamp can be fixed."""
    client = Client(key, client_secret=secret, resource_owner_key=token,
                    resource_owner_secret=token_secret, nonce=nonce,
                    timestamp=None if timestamp is None else str(timestamp))
    prepared = requests.Request("GET", url, params=params).prepare()
    uri, headers, _ = client.sign(prepared.url, http_method="GET")
    return requests.get(uri, headers={**headers, "User-Agent": UA})


def main():
    index_url, api_url, server, key, secret = sys.argv[1:6]
    out = {}
    consumer = ConsumerToken(key, secret)
    handshaker = Handshaker(index_url, consumer, user_agent=UA)

    # 1. Handshake with mwoauth.
    redirect, request_token = handshaker.initiate()
    out["authorize_url"] = redirect
    r = requests.get(redirect, allow_redirects=False, headers={"User-Agent": UA})
    out["authorize_status"] = r.status_code
    location = r.headers.get("Location", "")
    out["callback_location"] = location
    access_token = handshaker.complete(request_token, urlparse(location).query)
    out["access_token_len"] = len(access_token.key)
    out["access_secret_len"] = len(access_token.secret)

    # 2. identify (mwoauth checks signature, aud, iss netloc, iat and nonce).
    identity = handshaker.identify(access_token)
    out["identity"] = {k: identity.get(k) for k in
                       ("iss", "aud", "sub", "username", "blocked", "groups", "grants")}
    out["identity_exp_minus_iat"] = identity["exp"] - identity["iat"]

    # 3. api.php through requests_oauthlib (signature in the header).
    auth = OAuth1(key, client_secret=secret, resource_owner_key=access_token.key,
                  resource_owner_secret=access_token.secret)
    r = requests.get(api_url, params={"action": "query", "meta": "userinfo",
                                      "uiprop": "groups|rights|editcount", "format": "json"},
                     auth=auth, headers={"User-Agent": UA})
    out["userinfo"] = r.json()["query"]["userinfo"]
    r = requests.get(api_url, params={"action": "query", "meta": "tokens", "format": "json"},
                     auth=auth, headers={"User-Agent": UA})
    csrf = r.json()["query"]["tokens"]["csrftoken"]
    out["csrf_suffix"] = csrf[-2:]
    text = "Written from Python, ünïcödé " + uuid.uuid4().hex
    r = requests.post(api_url, data={"action": "edit", "title": "Python interop",
                                     "text": text, "summary": "interop test",
                                     "token": csrf, "format": "json"},
                      auth=auth, headers={"User-Agent": UA})
    out["edit"] = r.json().get("edit", r.json())
    out["edit_text"] = text
    r = requests.get(api_url, params={"action": "query", "prop": "revisions",
                                      "titles": "Python interop", "rvprop": "content|user",
                                      "rvslots": "main", "formatversion": "2", "format": "json"},
                     auth=auth, headers={"User-Agent": UA})
    rev = r.json()["query"]["pages"][0]["revisions"][0]
    out["read_back"] = {"user": rev["user"], "content": rev["slots"]["main"]["content"]}

    # 4. Error cases, hand-signed.
    q = {"action": "query", "meta": "userinfo", "format": "json"}
    bad = OAuth1(key, client_secret="0" * 40, resource_owner_key=access_token.key,
                 resource_owner_secret=access_token.secret)
    out["bad_signature"] = api_error(requests.get(api_url, params=q, auth=bad,
                                                  headers={"User-Agent": UA}))

    nonce = uuid.uuid4().hex
    ts = int(time.time())
    first = signed_get(api_url, q, key, secret, access_token.key, access_token.secret, nonce, ts)
    second = signed_get(api_url, q, key, secret, access_token.key, access_token.secret, nonce, ts)
    out["replay_first_name"] = first.json().get("query", {}).get("userinfo", {}).get("name")
    out["replayed_nonce"] = api_error(second)
    out["replayed_nonce_value"] = nonce

    stale_ts = int(time.time()) - 3600
    out["stale_timestamp"] = api_error(signed_get(api_url, q, key, secret, access_token.key,
                                                  access_token.secret, None, stale_ts))
    out["stale_timestamp_value"] = stale_ts

    out["unknown_token"] = api_error(signed_get(api_url, q, key, secret, uuid.uuid4().hex,
                                                "x" * 40))
    out["unknown_consumer"] = api_error(signed_get(api_url, q, uuid.uuid4().hex, "y" * 40,
                                                   access_token.key, access_token.secret))

    # Initiate with a wrong secret: mwoauth raises on the "Error: " body.
    try:
        Handshaker(index_url, ConsumerToken(key, "1" * 40), user_agent=UA).initiate()
        out["initiate_bad_secret"] = "no error"
    except OAuthException as e:
        out["initiate_bad_secret"] = str(e)

    # Revocation through the HTTP control, then the token is dead.
    r = requests.post(server + "/devwiki/revoke",
                      data=json.dumps({"user": "Alice", "consumer_key": key}))
    out["revoke_control"] = r.json()
    out["revoked_token"] = api_error(requests.get(api_url, params=q, auth=auth,
                                                  headers={"User-Agent": UA}))
    try:
        handshaker.identify(access_token)
        out["identify_revoked"] = "no error"
    except OAuthException as e:
        out["identify_revoked"] = str(e)

    # A new handshake after revocation gives a new access token.
    redirect, request_token = handshaker.initiate()
    r = requests.get(redirect, allow_redirects=False, headers={"User-Agent": UA})
    renewed = handshaker.complete(request_token, urlparse(r.headers["Location"]).query)
    out["renewed_differs"] = renewed.key != access_token.key

    print(json.dumps(out))


if __name__ == "__main__":
    main()
