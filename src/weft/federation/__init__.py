"""The ActivityPub face: every hosted identity is an actor that Mastodon and its relatives
can follow, and remote actors become authors in weft's timelines.

Formats and rules (HTTP signatures, Activity Streams documents, addressing) are pure modules
here; fetching, inboxes and delivery are the adapters around them. What arrives enters
through weft.ingest like everything else, so nothing downstream needs to know where a post
came from.
"""
