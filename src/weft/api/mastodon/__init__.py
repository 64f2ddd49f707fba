"""The Mastodon client API, so that Mastodon apps and libraries work with weft unchanged.

Part one: client apps and OAuth 2 (``apps``, ``oauth_pages`` with ``oauth_html``,
``oauth_tokens``, with the rules in ``oauth_server``, ``scopes`` and ``redirects``), who
calls (``auth``), the instance (``instance``) and accounts (``accounts``, ``directory``,
``entities``). ``params`` reads parameters as Rails does, ``pagination`` writes Link
headers, ``cors`` opens the API to web clients on other origins. Statuses and timelines
come with ``weft.social``. People among themselves: ``relationships`` (follows, follow
requests, blocks, mutes), ``account_lists`` (an account's statuses, followers, following)
and ``search`` (search, trends, hashtags).

Routes shape requests and answers; ``OAuthServer`` and ``Directory`` decide; SQL is in
``weft.store.oauth`` and ``weft.store.people``. Everything here reads the ``Site`` from
``app.state.site``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from weft.api.mastodon import (
    account_lists,
    accounts,
    apps,
    instance,
    markers,
    media,
    notifications,
    oauth_pages,
    oauth_tokens,
    relationships,
    reports,
    search,
    status_actions,
    statuses,
    streaming,
    timelines,
)

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    """Every route of the client API, in the order they must be matched."""
    return [*apps.ROUTES, *oauth_pages.ROUTES, *oauth_tokens.ROUTES, *instance.ROUTES,
            *relationships.ROUTES, *account_lists.ROUTES, *search.ROUTES, *accounts.ROUTES,
            *statuses.ROUTES, *status_actions.ROUTES, *timelines.ROUTES, *notifications.ROUTES, *markers.ROUTES, *media.ROUTES,
            *reports.ROUTES,
            *streaming.ROUTES]
