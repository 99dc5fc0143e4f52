"""The same pages as the Rust load benchmark's app, served by flask-mwoauth 0.4.82.

Configured by the environment: WIKI_BASE, CONSUMER_KEY, CONSUMER_SECRET, SECRET.
"""
import os

from flask import Flask, abort
from flask_mwoauth import MWOAuth

app = Flask(__name__)
app.secret_key = os.environ["SECRET"]
mw = MWOAuth(
    base_url=os.environ["WIKI_BASE"],
    consumer_key=os.environ["CONSUMER_KEY"],
    consumer_secret=os.environ["CONSUMER_SECRET"],
    default_return_to="bare",
    return_json=True,
    user_agent="rocket_mediawiki_oauth-bench/0 (flask-mwoauth side)",
)
app.register_blueprint(mw.bp)


@app.route("/bare")
def bare():
    return "hello"


@app.route("/user")
def user():
    name = mw.get_current_user(True)
    if name is None:
        abort(401)
    return "hello " + name


@app.route("/api")
def api():
    answer = mw.request({"action": "query", "meta": "userinfo"})
    return answer["query"]["userinfo"]["name"]
