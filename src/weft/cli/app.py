"""The root ``weft`` command, its table of subcommands, and how errors reach the user.

Every weft error (bad id, malformed DID, no identity, unreadable file) is
printed as one ``error: ...`` line on stderr, never a traceback; exit status 2
for a request that makes no sense (``UsageError``, or typer's own usage
errors), 1 for every other failure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from weft.cli import (
    admin,
    devices,
    identity,
    keys,
    peers,
    posting,
    relations,
    serve,
    transfer,
    worker,
)
from weft.errors import UsageError, WeftError

__all__ = ["app", "main"]

HELP = """\
weft: a decentralized social network, from the command line.

Each data directory (--data DIR, or WEFT_HOME, default ./data) holds one identity as one
of its devices. WEFT_DATABASE_URL=postgresql://user@host/db[?schema=NAME] keeps the
database in PostgreSQL instead of DIR/weft.db.

Testing aid: WEFT_CLOCK_OFFSET_MS=N shifts this process's clock by N milliseconds (e.g.
20000 to see a post that expires in 10s disappear without waiting). Do not set it in
production.

Exit status: 0 on success, 1 on failure, 2 for a request that makes no sense.
"""

app = typer.Typer(name="weft", help=HELP, no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})



@app.callback()
def _root(data: Annotated[Path | None, typer.Option(
        "--data", metavar="DIR", help="Data directory for every command (the same as a command's own --data).")] = None,
          ) -> None:
    # Each command reads --data, falling back to WEFT_HOME; the root option feeds that fallback,
    # so `weft --data DIR post ...` and `weft post --data DIR ...` mean the same.
    if data is not None:
        os.environ["WEFT_HOME"] = str(data)


app.command("init")(identity.init)
app.command("whoami")(identity.whoami)
app.command("profile")(identity.profile)

app.command("post")(posting.post)
app.command("edit")(posting.edit)
app.command("delete")(posting.delete)
app.command("like")(posting.like)
app.command("boost")(posting.boost)
app.command("feed")(posting.feed)
app.command("thread")(posting.thread)
app.command("show")(posting.show)

for _command in relations.COMMANDS:
    app.command(_command.__name__)(_command)

app.command("export")(transfer.export)
app.command("import")(transfer.import_)

app.command("sync")(peers.sync)
app.add_typer(peers.app, name="peers")
app.add_typer(devices.app, name="device")
app.add_typer(keys.app, name="keys")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(admin.app, name="admin")


def _fail(message: object, status: int) -> NoReturn:
    text = " ".join(str(message).split()) or "unknown error"
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()
    raise SystemExit(status)


def main() -> None:
    """Entry point of the ``weft`` script and of ``python -m weft.cli``."""
    try:
        app(prog_name="weft")
    except UsageError as exc:
        _fail(exc, 2)
    except WeftError as exc:
        _fail(exc, 1)
    except OSError as exc:  # a file or socket the user named, or a database that is down
        _fail(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else exc, 1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
