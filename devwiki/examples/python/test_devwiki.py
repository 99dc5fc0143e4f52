"""Testing a Python OAuth client against the local wiki, with pytest.

Run it with the binary on PATH (``cargo install --path devwiki``) or named by
``DEVWIKI_BIN``::

    pip install pytest requests requests_oauthlib mwoauth
    DEVWIKI_BIN=target/debug/devwiki pytest devwiki/examples/python/test_devwiki.py

The fixture starts ``devwiki --port 0 --json --auto-approve Alice``, reads
the one JSON line it prints once it listens, and stops it at the end.
"""

import json
import os
import shutil
import subprocess
from urllib.parse import urlparse

import pytest
import requests
from mwoauth import ConsumerToken, Handshaker
from requests_oauthlib import OAuth1

UA = "devwiki-pytest-example/1.0 (https://example.org; me@example.org)"


@pytest.fixture(scope="module")
def wiki():
    binary = os.environ.get("DEVWIKI_BIN") or shutil.which("devwiki")
    if not binary:
        pytest.skip("set DEVWIKI_BIN or put devwiki on PATH (cargo install --path devwiki)")
    proc = subprocess.Popen(
        [binary, "--port", "0", "--json", "--auto-approve", "Alice"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_login_identify_and_a_signed_api_call(wiki):
    consumer = ConsumerToken(wiki["default_consumer"]["key"], wiki["default_consumer"]["secret"])
    handshaker = Handshaker(wiki["index_url"], consumer, user_agent=UA)

    # The user would open this URL and press Allow; auto-approve answers at
    # once with the redirect to the consumer's callback.
    authorize_url, request_token = handshaker.initiate()
    r = requests.get(authorize_url, allow_redirects=False, headers={"User-Agent": UA})
    assert r.status_code == 302
    callback = r.headers["Location"]
    assert callback.startswith(wiki["default_consumer"]["callback"] + "?oauth_verifier=")
    access_token = handshaker.complete(request_token, urlparse(callback).query)

    identity = handshaker.identify(access_token)
    assert identity["username"] == "Alice"
    assert identity["iss"] == wiki["server"]

    auth = OAuth1(
        consumer.key,
        client_secret=consumer.secret,
        resource_owner_key=access_token.key,
        resource_owner_secret=access_token.secret,
    )
    r = requests.get(
        wiki["api_url"],
        params={"action": "query", "meta": "userinfo", "format": "json"},
        auth=auth,
        headers={"User-Agent": UA},
    )
    assert r.json()["query"]["userinfo"]["name"] == "Alice"


def test_a_wrong_secret_is_refused_like_on_a_real_wiki(wiki):
    auth = OAuth1(wiki["default_consumer"]["key"], client_secret="0" * 40,
                  resource_owner_key="0" * 32, resource_owner_secret="0" * 40)
    r = requests.get(
        wiki["api_url"],
        params={"action": "query", "meta": "userinfo", "format": "json"},
        auth=auth,
        headers={"User-Agent": UA},
    )
    assert r.status_code == 200
    assert r.headers["MediaWiki-API-Error"] == "mwoauth-invalid-authorization"
