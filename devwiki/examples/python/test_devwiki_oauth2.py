"""An OAuth 2.0 client in Python against the local wiki, with pytest.

Run it like ``test_devwiki.py`` (the OAuth 1.0a example beside it)::

    pip install pytest requests requests_oauthlib
    DEVWIKI_BIN=target/debug/devwiki pytest devwiki/examples/python/test_devwiki_oauth2.py

The local wiki speaks plain ``http://`` on 127.0.0.1, and ``oauthlib`` refuses
OAuth 2.0 over anything but HTTPS (``InsecureTransportError``) unless the
environment says ``OAUTHLIB_INSECURE_TRANSPORT=1``. This file sets it for
itself, before ``requests_oauthlib`` is used; never set it against a real wiki.

The fixture starts ``devwiki --port 0 --json --auto-approve Alice --callback
http://127.0.0.1:8000/oauth-callback``: the wiki registers that URL as the
default client's ``redirect_uri`` (on 127.0.0.1 any port matches, as on a real
wiki), and auto-approve answers the authorize request at once with the
redirect to it, where a browser would show the dialog.
"""

import json
import os
import shutil
import subprocess

# Plain http to the local wiki: allowed for this example only.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

import pytest  # noqa: E402
import requests  # noqa: E402
from requests_oauthlib import OAuth2Session  # noqa: E402

UA = "devwiki-pytest-example/1.0 (https://example.org; me@example.org)"
CALLBACK = "http://127.0.0.1:8000/oauth-callback"


@pytest.fixture(scope="module")
def wiki():
    binary = os.environ.get("DEVWIKI_BIN") or shutil.which("devwiki")
    if not binary:
        pytest.skip("set DEVWIKI_BIN or put devwiki on PATH (cargo install --path devwiki)")
    proc = subprocess.Popen(
        [binary, "--port", "0", "--json", "--auto-approve", "Alice", "--callback", CALLBACK],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sign_in(wiki):
    """The authorization-code flow with PKCE; returns the session and its token."""
    client = wiki["oauth2_client"]
    assert client["redirect_uri"] == CALLBACK
    oauth = OAuth2Session(client["client_id"], redirect_uri=CALLBACK, pkce="S256")
    oauth.headers["User-Agent"] = UA
    authorize_url, state = oauth.authorization_url(client["endpoints"]["authorize"])

    # The user would open this URL and press Allow; auto-approve answers at
    # once with the redirect to the registered redirect_uri.
    r = requests.get(authorize_url, allow_redirects=False, headers={"User-Agent": UA})
    assert r.status_code == 302
    back = r.headers["Location"]
    assert back.startswith(CALLBACK + "?code=")
    assert f"state={state}" in back

    token = oauth.fetch_token(
        client["endpoints"]["access_token"],
        authorization_response=back,
        client_secret=client["client_secret"],
        include_client_id=True,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] > 0 and token["refresh_token"]
    return oauth, token


def test_sign_in_profile_and_an_api_call_with_bearer(wiki):
    oauth, _ = sign_in(wiki)

    profile = oauth.get(wiki["oauth2_client"]["endpoints"]["profile"]).json()
    assert profile["username"] == "Alice"

    r = oauth.get(
        wiki["api_url"],
        params={"action": "query", "meta": "userinfo", "format": "json"},
    )
    assert r.json()["query"]["userinfo"]["name"] == "Alice"


def test_refresh_gives_a_new_access_token(wiki):
    oauth, token = sign_in(wiki)
    client = wiki["oauth2_client"]
    fresh = oauth.refresh_token(
        client["endpoints"]["access_token"],
        client_id=client["client_id"],
        client_secret=client["client_secret"],
    )
    assert fresh["access_token"] != token["access_token"]
    r = oauth.get(
        wiki["api_url"],
        params={"action": "query", "meta": "userinfo", "format": "json"},
    )
    assert r.json()["query"]["userinfo"]["name"] == "Alice"
