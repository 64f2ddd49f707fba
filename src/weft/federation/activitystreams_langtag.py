"""Language tags as BCP 47 (RFC 5646) defines them, for the keys of ``contentMap`` and kin.

A tag is accepted when it is *well-formed* (section 2.1, the ABNF below, grandfathered tags
included) and its variants and extension singletons are not repeated (section 2.2.5/2.2.6).
Of *validity* against the IANA subtag registry we check one part: a two-letter primary
language subtag must be one the registry holds (all ISO 639-1 codes, the deprecated ones
included). That closed set of 190 catches the usual mistake ("sp" for Spanish) without
carrying the 9,000-line registry; three-letter languages, scripts, regions and variants are
checked for form only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

__all__ = ["is_language_tag"]

_ALNUM: Final = "[a-z0-9]"
_LANGTAG: Final = re.compile(
    rf"""
    (?P<language>[a-z]{{2,3}}(?:-[a-z]{{3}}){{0,3}}|[a-z]{{4}}|[a-z]{{5,8}})
    (?:-(?P<script>[a-z]{{4}}))?
    (?:-(?P<region>[a-z]{{2}}|[0-9]{{3}}))?
    (?P<variants>(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*)
    (?P<extensions>(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*)
    (?:-x(?:-{_ALNUM}{{1,8}})+)?
    """,
    re.VERBOSE,
)
_PRIVATE_USE: Final = re.compile(rf"x(?:-{_ALNUM}{{1,8}})+")
_GRANDFATHERED: Final = frozenset(
    {
        "en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon",
        "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-be-fr",
        "sgn-be-nl", "sgn-ch-de", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
        "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan", "zh-xiang",
    }
)
# The two-letter language subtags of the IANA Language Subtag Registry (ISO 639-1, with the
# deprecated in, iw, ji, jw and mo, which stay valid).
_REGISTERED_TWO_LETTER: Final = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik in io is it iu iw ja ji jv jw ka kg ki kj kk kl km
    kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na
    nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
    se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw
    ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
_TWO_LETTER_LANGUAGES: Final = frozenset(_REGISTERED_TWO_LETTER.split())
_MAX_TAG: Final = 64


# Remembered: the same few tags ("en", "de"...) key nearly every contentMap. Bounded, as
# the tags come from anyone.
@lru_cache(maxsize=1024)
def is_language_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed BCP 47 language tag (case-insensitive) whose
    two-letter primary language, if it has one, is registered."""
    if not tag or len(tag) > _MAX_TAG or not tag.isascii():
        return False
    lowered = tag.lower()
    if lowered in _GRANDFATHERED or _PRIVATE_USE.fullmatch(lowered):
        return True
    match = _LANGTAG.fullmatch(lowered)
    if match is None:
        return False
    primary = match["language"].split("-")[0]
    if len(primary) == 2 and primary not in _TWO_LETTER_LANGUAGES:
        return False
    variants = match["variants"].split("-")[1:]
    if len(variants) != len(set(variants)):
        return False
    singletons = [part for part in match["extensions"].split("-") if len(part) == 1]
    return len(singletons) == len(set(singletons))
