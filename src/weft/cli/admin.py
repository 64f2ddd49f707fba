"""``weft admin``: the server operator's commands for hosted accounts.

They work on the data directory directly, beside a running ``weft serve`` or without
one: the first administrator is made here, since nobody can sign in to approve them yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from weft.cli._runtime import DataOption, echo, with_node

if TYPE_CHECKING:
    from weft.accounts import Accounts, RegistrationMode
    from weft.node import Node

__all__ = ["app"]

app = typer.Typer(name="admin", no_args_is_help=True, add_completion=False,
                  help="Create accounts and choose who may sign up on this server.")


def _accounts(node: Node) -> Accounts:
    from weft.accounts import Accounts
    from weft.vault import Vault

    return Accounts(node, Vault.for_data_dir(node.config.data_dir))


@app.command("create-user")
def create_user(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The username (letters, digits, underscores).")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the account an administrator.")] = False,
    email: Annotated[str | None, typer.Option(
        "--email", metavar="ADDRESS", help="Where password-reset links go.")] = None,
    password: Annotated[str | None, typer.Option(
        "--password", metavar="PASSWORD",
        help="The password (asked for twice, hidden, when not given; a password given here "
             "stays in the shell's history).")] = None,
    data: DataOption = None,
) -> None:
    """Create a hosted account (whatever the registration mode); prints its username and DID."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt="Password again")

    async def work(node: Node) -> tuple[str, str]:
        account = await _accounts(node).sign_up(name, password, email=email, admin=admin, by_admin=True)
        return account.username, account.did

    username, did = with_node(data, work, needs_identity=False)
    echo(f"{username} {did}")


@app.command("registrations")
def registrations(
    mode: Annotated[str | None, typer.Argument(
        metavar="[open|approval|closed]",
        help="open: anyone signs up; approval: sign-ups wait for an administrator; "
             "closed: only 'weft admin create-user'. Without it, prints the current mode.")] = None,
    data: DataOption = None,
) -> None:
    """Show or choose who may sign up on this server."""

    async def work(node: Node) -> RegistrationMode:
        accounts = _accounts(node)
        if mode is not None:
            await accounts.set_registration_mode(mode.strip().lower())
        return await accounts.registration_mode()

    echo(with_node(data, work, needs_identity=False))
