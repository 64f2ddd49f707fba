"""Checking HTTP signatures: full parse+verify of a signed Create(Note), beside raw RSA verification.

An inbox spends most of its CPU on checking signatures, and the part that cannot be made
faster is one RSA-2048 PKCS#1 v1.5 verification. Both are measured in the same run, on one
thread: the raw ``cryptography`` verify of the same signature over the same signing string
(the bound), and ``weft.federation.httpsig``'s ``parse`` + ``verify`` of the whole request as
an inbox receives it (header parsing, Mastodon's window and coverage rules, the body's
SHA-256 digest, the signing string, the verification), with the key object already loaded
as a key cache holds it. The ratio says how much the rules cost on top of the mathematics.

Run alone: ``.venv/bin/python -m bench httpsig``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench.results import record
from weft.federation.httpsig import generate_rsa_key, parse, sign, verify
from weft.federation.httpsig_cavage import parse_signature_header, signing_string
from weft.federation.httpsig_message import Request

SECONDS = 2.0
# Calls between clock reads, so that reading the clock costs nothing.
BATCH = 32
NOW = 1_700_000_000_000
INBOX = "https://remote.example/inbox"
KEY_ID = "https://weft.example/users/alice#main-key"
# A Create(Note) of the size Mastodon sends (about 1.5 KB with its context and tags).
BODY = (b'{"@context":["https://www.w3.org/ns/activitystreams",{"ostatus":"http://ostatus.org#",'
        b'"atomUri":"ostatus:atomUri","sensitive":"as:sensitive","toot":"http://joinmastodon.org/ns#"}],'
        b'"id":"https://weft.example/users/alice/statuses/110000000000000001/activity","type":"Create",'
        b'"actor":"https://weft.example/users/alice","published":"2023-11-14T22:13:20Z",'
        b'"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://weft.example/users/alice/followers"],'
        b'"object":{"id":"https://weft.example/users/alice/statuses/110000000000000001","type":"Note",'
        b'"summary":null,"inReplyTo":null,"published":"2023-11-14T22:13:20Z",'
        b'"url":"https://weft.example/@alice/110000000000000001","attributedTo":"https://weft.example/users/alice",'
        b'"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://weft.example/users/alice/followers"],'
        b'"sensitive":false,"content":"<p>' + b"A post of a paragraph or so, as people write them. " * 12 +
        b'</p>","attachment":[],"tag":[]}}')


def rates(*calls: Callable[[], object], seconds: float = SECONDS, slices: int = 20) -> list[float]:
    """Calls per second of each of ``calls`` on this thread, over about ``seconds`` each.

    The calls take turns in short slices, so that a neighbour's load on a shared machine
    falls on all of them alike rather than on whichever ran while it lasted.
    """
    done = [0] * len(calls)
    spent = [0.0] * len(calls)
    for _ in range(slices):
        for index, call in enumerate(calls):
            began = time.perf_counter()
            deadline = began + seconds / slices
            while time.perf_counter() < deadline:
                for _ in range(BATCH):
                    call()
                done[index] += BATCH
            spent[index] += time.perf_counter() - began
    return [count / elapsed for count, elapsed in zip(done, spent, strict=True)]


def run() -> None:
    key = generate_rsa_key()
    public = key.public_key()
    content_type = ("Content-Type", "application/activity+json")
    headers = [content_type, *sign(method="POST", url=INBOX, headers=[content_type], body=BODY,
                                   private_key=key, key_id=KEY_ID, now=NOW).items()]
    signature_header = dict(headers)["Signature"]
    signed_string = signing_string(Request.of("POST", INBOX, headers, BODY), parse_signature_header(signature_header))
    raw_signature = parse_signature_header(signature_header).signature

    def raw() -> None:
        public.verify(raw_signature, signed_string, padding.PKCS1v15(), hashes.SHA256())

    def full() -> None:
        verify(parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW + 1000), public)

    full()   # the request is valid: a refusal here would make the figure meaningless
    bound, figure = rates(raw, full)
    record("httpsig_rsa2048_verify_1_thread", bound, "verify/s", None, "baseline: cryptography, same signature")
    record("httpsig_parse_verify_create_1_thread", figure, "requests/s", bound,
           "ratio near 1: the rules cost little beside the RSA verification")
