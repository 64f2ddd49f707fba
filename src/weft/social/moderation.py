"""Server moderation: domain blocks (suspend, silence, reject media), their import and
export in Mastodon's CSV format, and reports (made here or received as a Flag).

docs/decisions/0008-server-moderation.md gives the rules. In short:

- **suspend**: nothing from the domain is accepted (inboxes answer 403, fetches refuse it),
  nothing is delivered to it, and what is held of its actors is removed when the block is
  made (their entries purged, as a node's own block purges);
- **silence**: its actors' posts stay out of the public and local timelines and search's
  public results; people who follow them still see them;
- **reject media**: its posts' images and its people's avatars are neither fetched nor shown
  here, and what the remote media cache kept of it is dropped when the block is made.

Policies are read on every inbound activity, so they are cached per process and read again
at most every ``POLICY_TTL_MS`` (another worker's change shows within that time; this
process's own changes at once).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from weft.errors import NotFound, UsageError
from weft.store import moderation as store
from weft.store import remote_media
from weft.store.blob_refs import named_by_identity
from weft.store.moderation import DomainBlock, Report, domains_of
from weft.store.outbox import queue_report
from weft.store.people import Person, persons
from weft.store.views import purge_identity

if TYPE_CHECKING:
    from weft.accounts import Account
    from weft.site import Site

__all__ = ["CSV_HEADER", "POLICY_TTL_MS", "REPORT_CATEGORIES", "SEVERITIES", "DomainPolicy", "Moderation", "normalize_domain"]

SEVERITIES: Final = ("suspend", "silence", "noop")
REPORT_CATEGORIES: Final = ("spam", "legal", "violation", "other")
POLICY_TTL_MS: Final = 30_000
MAX_COMMENT_CHARS: Final = 1000
# Mastodon's export (Admin > Federation > Export) and what its import reads.
CSV_HEADER: Final = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")
MAX_IMPORT_ROWS: Final = 100_000


@dataclass(frozen=True)
class DomainPolicy:
    """What applies to one host: the most specific block covering it, read as flags."""

    domain: str
    suspended: bool
    silenced: bool
    reject_media: bool
    reject_reports: bool


def normalize_domain(text: str) -> str:
    """A domain as blocks hold it: lower-case, IDNA (punycode), no scheme, path, port or dots
    at the ends. UsageError if it is not a domain."""
    name = text.strip().lower()
    if "://" in name:
        name = name.split("://", 1)[1]
    name = name.split("/", 1)[0].strip(".")
    if name.startswith("*."):            # Mastodon's exports may write wildcard subdomains so
        name = name[2:]
    try:
        name = name.encode("idna").decode("ascii") if name and not name.isascii() else name
    except UnicodeError:
        raise UsageError(f"{text!r} is not a domain name") from None
    labels = name.split(".")
    if not name or len(name) > 253 or not all(
            label and len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label) for label in labels):
        raise UsageError(f"{text!r} is not a domain name")
    return name


class Moderation:
    """The server's moderation for one site; ``site.social.moderation``."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._blocks: dict[str, DomainBlock] = {}
        self._read_at: int | None = None

    # -- domain blocks -------------------------------------------------------

    async def domain_blocks(self) -> list[DomainBlock]:
        async with self.site.node.db.read() as conn:
            return await store.domain_block_list(conn)

    async def _fresh_blocks(self) -> dict[str, DomainBlock]:
        now = self.site.node.clock()
        if self._read_at is None or now - self._read_at >= POLICY_TTL_MS or now < self._read_at:
            self._blocks = {block.domain: block for block in await self.domain_blocks()}
            self._read_at = now
        return self._blocks

    async def policy(self, host: str) -> DomainPolicy | None:
        """The policy for ``host`` (a host name, maybe with a port), or None if no block covers it."""
        blocks = await self._fresh_blocks()
        for domain in domains_of(host):
            block = blocks.get(domain)
            if block is not None:
                return DomainPolicy(block.domain, block.severity == "suspend", block.severity == "silence",
                                    block.reject_media or block.severity == "suspend",
                                    block.reject_reports or block.severity == "suspend")
        return None

    async def silenced_domains(self) -> list[str]:
        return [d for d, block in (await self._fresh_blocks()).items() if block.severity == "silence"]

    async def block_domain(self, domain: str, severity: str = "suspend", *, reject_media: bool = False,
                           reject_reports: bool = False, public_comment: str = "", private_comment: str = "",
                           obfuscate: bool = False) -> tuple[DomainBlock, int]:
        """Make or change the block of ``domain``; (the block, how many actors' content was
        removed: only a suspension removes anything)."""
        if severity not in SEVERITIES:
            raise UsageError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        block = DomainBlock(normalize_domain(domain), severity, reject_media, reject_reports,
                            public_comment[:MAX_COMMENT_CHARS], private_comment[:MAX_COMMENT_CHARS], obfuscate,
                            self.site.node.clock())
        freed: set[str] = set()
        purged = 0
        async with self.site.node.db.write() as conn:
            await store.save_domain_block(conn, block)
            if reject_media or severity == "suspend":   # what the media cache kept of it goes
                freed |= await remote_media.reject_domain(conn, block.domain)
            if severity == "suspend":
                for identity in await store.actors_of_domain(conn, block.domain):
                    freed |= await named_by_identity(conn, identity)
                    await purge_identity(conn, identity)
                    purged += 1
        await self._changed(freed)
        return block, purged

    async def unblock_domain(self, domain: str) -> None:
        async with self.site.node.db.write() as conn:
            if not await store.forget_domain_block(conn, normalize_domain(domain)):
                raise NotFound(f"{domain} is not blocked")
        await self._changed(set())

    async def _changed(self, freed: set[str]) -> None:
        self._read_at = None
        if freed:
            await self.site.node.media.release(freed)
        if "social" in self.site.__dict__:   # kept timeline pages may show what changed
            self.site.social.pages.bump()

    def export_csv(self, blocks: Sequence[DomainBlock]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for block in blocks:
            writer.writerow([block.domain, block.severity, _bool(block.reject_media), _bool(block.reject_reports),
                             block.public_comment, _bool(block.obfuscate)])
        return out.getvalue()

    async def import_csv(self, text: str) -> tuple[int, list[str]]:
        """Block every domain of a Mastodon blocklist CSV (with its header) or a plain list of
        domains, one per line. (blocks made or changed, problems by line); a line that cannot
        be read is reported and skipped, the others still apply."""
        try:
            rows = list(itertools.islice(csv.reader(io.StringIO(text)), MAX_IMPORT_ROWS + 1))
        except csv.Error as exc:   # e.g. a field over csv's size limit: nothing is imported
            raise UsageError(f"the blocklist is not CSV: {exc}") from None
        header = [cell.strip().lstrip("#").lower() for cell in rows[0]] if rows else []
        has_header = "domain" in header
        columns = header if has_header else ["domain", "severity"]
        made, problems = 0, []
        for number, row in enumerate(rows[1:] if has_header else rows, start=2 if has_header else 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            record = dict(zip(columns, (cell.strip() for cell in row), strict=False))
            try:
                await self.block_domain(
                    record.get("domain", ""), (record.get("severity") or "suspend").lower(),
                    reject_media=_truthy(record.get("reject_media")),
                    reject_reports=_truthy(record.get("reject_reports")),
                    public_comment=record.get("public_comment", ""), obfuscate=_truthy(record.get("obfuscate")))
                made += 1
            except UsageError as exc:
                problems.append(f"line {number}: {exc}")
        return made, problems

    # -- reports -------------------------------------------------------------

    async def report(self, reporter: Account, target: int, *, entries: Sequence[str] = (), comment: str = "",
                     category: str = "other", forward: bool = False) -> int:
        """A person here reports someone (and some of their posts) to this server's moderators.

        With ``forward``, a report about a Fediverse person also goes to their server, as a
        Flag from this server (not from the reporter): queued in the transaction that stores
        the report, and delivered as activities are. About someone hosted here, ``forward``
        has nowhere to go and is not recorded."""
        if category not in REPORT_CATEGORIES:
            raise UsageError(f"category must be one of {', '.join(REPORT_CATEGORIES)}")
        if target == reporter.identity:
            raise UsageError("you cannot report yourself")
        now = self.site.node.clock()
        async with self.site.node.db.write() as conn:
            forward = forward and await store.is_remote_actor(conn, target)
            made = await store.add_report(conn, reporter=reporter.identity, target=target, entries=entries,
                                          comment=comment[:MAX_COMMENT_CHARS], category=category,
                                          forward=forward, now_ms=now)
            if made is None:   # pragma: no cover - only received Flags carry an origin
                raise RuntimeError("a report without an origin was not stored")
            if forward:
                await queue_report(conn, made, now)
        return made

    async def received_flag(self, *, origin: str, origin_host: str, target: int, entries: Sequence[str],
                            comment: str) -> int | None:
        """A Flag another server sent about one of ours (idempotent by its id); None when it
        was held already or the sender's reports are rejected."""
        policy = await self.policy(origin_host)
        if policy is not None and policy.reject_reports:
            return None
        async with self.site.node.db.write() as conn:
            return await store.add_report(conn, reporter=None, target=target, entries=entries,
                                          comment=comment[:MAX_COMMENT_CHARS], category="other", forward=False,
                                          now_ms=self.site.node.clock(), origin=origin, origin_host=origin_host)

    async def reports(self, *, resolved: bool = False) -> list[Report]:
        async with self.site.node.db.read() as conn:
            return await store.list_reports(conn, resolved=resolved)

    async def resolve(self, report_id: int, by: Account, *, reopen: bool = False) -> None:
        async with self.site.node.db.write() as conn:
            if not await store.resolve_report(conn, report_id, by.id, self.site.node.clock(), reopen=reopen):
                raise NotFound(f"no report {report_id}")

    async def people_of(self, reports: Sequence[Report]) -> dict[int, Person]:
        """The reporters and reported of ``reports``, by identity row."""
        wanted = {r.target for r in reports} | {r.reporter for r in reports if r.reporter is not None}
        async with self.site.node.db.read() as conn:
            return await persons(conn, list(wanted), now_ms=self.site.node.clock())

    async def get_report(self, report_id: int) -> Report:
        async with self.site.node.db.read() as conn:
            found = await store.report_by_id(conn, report_id)
        if found is None:
            raise NotFound(f"no report {report_id}")
        return found


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes")

