"""Signed entries for the benchmarks: many authors, one device each, a realistic mix.

Generating is setup, never timed. Each author's log is made in two passes so that
replies and likes can point at real posts of other authors: first every author's
opening posts (in parallel, one process per core), then the rest of every log,
whose replies and likes pick their targets among those opening posts. Everything is
derived from the author's index and a fixed seed, so a corpus is the same on every
run, and ``load_or_build`` keeps it in a file under ``.bench/`` keyed by
``VERSION`` and the parameters, so reruns skip signing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weft.core.content import encode_content
from weft.core.entry import sign_entry
from weft.core.identity import sign_op
from weft.core.ids import did_from_genesis, entry_id_text
from weft.core.keys import SigningKey

# Bump when the generated corpus changes shape, so cached files are rebuilt.
VERSION = "corpus-1"
CACHE_DIR = Path(__file__).resolve().parent.parent / ".bench"
# Every timestamp is after this (2023-11-14) and before the time a run happens.
T0 = 1_700_000_000_000
# Share of each kind among an author's entries after its opening posts.
MIX = (("post", 0.80), ("reply", 0.08), ("like", 0.07), ("follow", 0.03), ("edit", 0.02))
_WORDS = (
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
    "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other",
    "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make", "like",
    "him", "into", "time", "has", "look", "two", "more", "write", "go", "see", "number", "no",
    "way", "could", "people", "my", "than", "first", "water", "been", "call", "who", "oil", "its",
    "now", "find", "long", "down", "day", "did", "get", "come", "made", "may", "part", "garden",
    "river", "weft", "warp", "loom", "thread", "shuttle", "heddle", "bobbin", "spindle", "fibre",
    "wool", "linen", "silk", "dye", "indigo",
)


@dataclass(frozen=True)
class Corpus:
    """Identity operations (one genesis per author), then entries as a peer would send them."""

    ops: list[bytes]
    dids: list[str]
    offers: list[tuple[bytes, bytes]]        # (header, content), interleaved across authors
    canonical_bytes: int                      # sum of header and content sizes


@dataclass(frozen=True)
class Spec:
    authors: int
    per_author: int
    text_bytes: int
    opening: int            # posts at the start of each log that later entries may point at
    mix: tuple[tuple[str, float], ...] = MIX
    seed: str = "weft-bench"

    def key(self) -> str:
        mix = "-".join(f"{kind}{share:g}" for kind, share in self.mix)
        text = f"{VERSION}|{self.authors}|{self.per_author}|{self.text_bytes}|{self.opening}|{mix}|{self.seed}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def keys_of(spec: Spec, index: int) -> tuple[SigningKey, SigningKey]:
    """(rotation key, device key) of author ``index``."""
    def seed(role: str) -> bytes:
        return hashlib.sha256(f"{spec.seed}|{role}|{index}".encode()).digest()
    return SigningKey(seed("rotation")), SigningKey(seed("device"))


def genesis(spec: Spec, index: int, ts: int = T0) -> bytes:
    rotation, device = keys_of(spec, index)
    return sign_op(rotation, prev=None, ts=ts, rotation_keys=[rotation.did],
                   devices={device.did: {"name": "bench", "added": ts}}).raw


def text_of(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = -1
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size].rstrip() or "x"


def ts_of(seq: int, index: int) -> int:
    """Logs advance about a minute per entry, authors offset from each other."""
    return T0 + seq * 60_000 + (index * 7919) % 60_000


@dataclass
class _Log:
    index: int
    did: str
    entries: list[tuple[bytes, bytes]]
    posts: list[bytes]          # ids of this author's top-level posts, in order
    head_seq: int
    head_id: bytes | None


def _sign(device: SigningKey, log: _Log, content: dict[str, Any]) -> bytes:
    data = encode_content(content)
    seq = log.head_seq + 1
    entry = sign_entry(device, author=log.did, seq=seq, prev=log.head_id, ts=ts_of(seq, log.index),
                       content=data)
    log.entries.append((entry.raw, data))
    log.head_seq, log.head_id = seq, entry.id
    return entry.id


def _opening(args: tuple[Spec, int]) -> tuple[bytes, _Log]:
    spec, index = args
    op = genesis(spec, index)
    log = _Log(index, did_from_genesis(op), [], [], 0, None)
    _, device = keys_of(spec, index)
    rng = random.Random(f"{spec.seed}|open|{index}")
    for _ in range(min(spec.opening, spec.per_author)):
        log.posts.append(_sign(device, log, {"type": "post", "text": text_of(rng, spec.text_bytes)}))
    return op, log


_shared: dict[str, Any] = {}


def _share(targets: list[bytes], dids: list[str]) -> None:
    """Pool initializer: hand each worker process the targets once, not with every task."""
    _shared["targets"], _shared["dids"] = targets, dids


def _rest(args: tuple[Spec, _Log]) -> _Log:
    spec, log = args
    targets: list[bytes] = _shared["targets"]
    dids: list[str] = _shared["dids"]
    _, device = keys_of(spec, log.index)
    rng = random.Random(f"{spec.seed}|rest|{log.index}")
    kinds = [kind for kind, _ in spec.mix]
    weights = [share for _, share in spec.mix]
    followed: set[str] = set()
    while log.head_seq < spec.per_author:
        kind = rng.choices(kinds, weights)[0]
        if kind == "reply" and targets:
            target = entry_id_text(rng.choice(targets))
            _sign(device, log, {"type": "post", "text": text_of(rng, spec.text_bytes // 2),
                                "reply_to": target, "root": target})
        elif kind == "like" and targets:
            _sign(device, log, {"type": "like", "target": entry_id_text(rng.choice(targets))})
        elif kind == "follow" and len(followed) < len(dids) - 1:
            did = rng.choice(dids)
            if did != log.did and did not in followed:
                followed.add(did)
                _sign(device, log, {"type": "follow", "target": did})
        elif kind == "edit" and log.posts:
            _sign(device, log, {"type": "edit", "target": entry_id_text(rng.choice(log.posts)),
                                "text": text_of(rng, spec.text_bytes)})
        else:
            log.posts.append(_sign(device, log, {"type": "post", "text": text_of(rng, spec.text_bytes)}))
    return log


def _sample_targets(logs: Sequence[_Log], limit: int) -> list[bytes]:
    every = [post for log in logs for post in log.posts]
    return random.Random(0).sample(every, min(limit, len(every)))


def interleave(logs: Sequence[Sequence[tuple[bytes, bytes]]]) -> Iterator[tuple[bytes, bytes]]:
    """One entry of each log in turn, as a peer replicating many logs at once sends them."""
    longest = max((len(log) for log in logs), default=0)
    for position in range(longest):
        for log in logs:
            if position < len(log):
                yield log[position]


def build(spec: Spec, *, workers: int | None = None) -> Corpus:
    workers = workers or os.cpu_count() or 1
    batch = max(1, spec.authors // (workers * 8))
    with ProcessPoolExecutor(workers) as pool:
        opened = list(pool.map(_opening, [(spec, i) for i in range(spec.authors)], chunksize=batch))
    ops = [op for op, _ in opened]
    dids = [log.did for _, log in opened]
    targets = _sample_targets([log for _, log in opened], 20_000)
    with ProcessPoolExecutor(workers, initializer=_share, initargs=(targets, dids)) as pool:
        logs = list(pool.map(_rest, [(spec, log) for _, log in opened], chunksize=batch))
    offers = list(interleave([log.entries for log in logs]))
    size = sum(len(header) + len(content) for header, content in offers)
    return Corpus(ops, dids, offers, size)


def load_or_build(spec: Spec, name: str, say: Any = print) -> Corpus:
    """The corpus of ``spec``, from ``.bench/NAME-KEY.pickle`` if there, else built and saved."""
    path = CACHE_DIR / f"{name}-{spec.key()}.pickle"
    if path.exists():
        with path.open("rb") as handle:
            corpus: Corpus = pickle.load(handle)
        return corpus
    began = time.perf_counter()
    corpus = build(spec)
    say(f"signed {len(corpus.offers):,} entries of {spec.authors:,} authors in "
        f"{time.perf_counter() - began:.1f} s (setup, cached in {path.relative_to(CACHE_DIR.parent)})")
    CACHE_DIR.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(corpus, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)
    return corpus
