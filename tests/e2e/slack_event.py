#!/usr/bin/python3
"""slack_event.py: sends an event to kopilot serve as Slack's Events API
does: the JSON body, X-Slack-Request-Timestamp and X-Slack-Signature
("v0=" + HMAC-SHA256 of "v0:TS:BODY" with the signing secret), and
X-Slack-Retry-Num for a retry. Prints the HTTP status and the body.

  slack_event.py URL SECRET BODY_JSON [--age SECONDS] [--bad-signature] [--retry N]
"""
import argparse
import hashlib
import hmac
import time
import urllib.error
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("secret")
ap.add_argument("body")
ap.add_argument("--age", type=int, default=0)
ap.add_argument("--bad-signature", action="store_true")
ap.add_argument("--retry", type=int)
a = ap.parse_args()
body = a.body.encode()
ts = str(int(time.time()) - a.age)
sig = "v0=" + hmac.new(a.secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
if a.bad_signature:
    sig = sig[:-4] + ("0000" if not sig.endswith("0000") else "1111")
h = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
     "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
if a.retry is not None:
    h["X-Slack-Retry-Num"] = str(a.retry)
    h["X-Slack-Retry-Reason"] = "http_timeout"
req = urllib.request.Request(a.url, data=body, headers=h, method="POST")
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
