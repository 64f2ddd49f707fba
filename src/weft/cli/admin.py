"""``weft admin``: the server operator's commands for hosted accounts.

They work on the data directory directly, beside a running ``weft serve`` or without
one: the first administrator is made here, since nobody can sign in to approve them yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from weft.cli._runtime import DataOption, echo, with_node
from weft.errors import UsageError

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


def _password_from(path: Path) -> str:
    """The first line of a password file (a trailing newline is not part of the password)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the password file {path}: {exc}") from None
    if not lines or not lines[0]:
        raise UsageError(f"the password file {path} is empty")
    return lines[0]


@app.command("arrive")
def arrive(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The username here (letters, digits, underscores).")],
    archive: Annotated[Path, typer.Argument(
        metavar="ARCHIVE", help="The archive the person downloaded from their old server (weft export's file).")],
    recovery_key: Annotated[Path, typer.Option(
        "--recovery-key", metavar="FILE", help="The identity's recovery key file, as their old server offered it.")],
    email: Annotated[str | None, typer.Option(
        "--email", metavar="ADDRESS", help="Where password-reset links go.")] = None,
    password_file: Annotated[Path | None, typer.Option(
        "--password-file", metavar="FILE",
        help="Read the password from the first line of FILE (for moving many people in a script); "
             "asked for twice, hidden, when not given.")] = None,
    data: DataOption = None,
) -> None:
    """Make an account for someone moving here with their weft archive: their identity, posts
    and profile come along, and this server takes over with the recovery key (which it does not
    keep). Whatever the registration mode; prints the username and DID."""
    try:
        key_text = recovery_key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the recovery key file {recovery_key}: {exc}") from None
    if password_file is not None:
        password = _password_from(password_file)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt="Password again")

    async def work(node: Node) -> tuple[str, str]:
        account = await _accounts(node).arrive(name, password, archive, key_text, email=email, by_admin=True)
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
