"""``pecoma token …``: API tokens for server mode (create, list, revoke).

Run where the registry database is reachable (same ``--database-url`` / data directory
as ``pecoma serve``). ``create`` prints the token once, on stdout, and stores only its
SHA-256 digest; whoever runs these commands can read the database anyway, so they need
no token themselves. Each change is written to the audit log with ``--actor``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pecoma.cli.common import (
    ActorOption,
    DataDirOption,
    DbOption,
    TextJson,
    actor_name,
    err,
    out,
    registry_errors,
)

if TYPE_CHECKING:
    from pecoma.store.tokens import TokenStore

__all__ = ["token_app"]

token_app = typer.Typer(
    name="token",
    help="API tokens for server mode: create (printed once), list, revoke.",
    no_args_is_help=True,
    add_completion=False,
)


def _store(url: str | None, data_dir: Path | None) -> TokenStore:
    from pecoma.store import database_url, open_registry
    from pecoma.store.tokens import TokenStore

    repo = open_registry(database_url(url, {}, data_dir))
    return TokenStore(repo.engine)


@token_app.command("create")
def create_cmd(
    role: Annotated[str, typer.Option("--role", help="reader, clinician or admin.")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses it (unique).")],
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Create a token and print it once (it cannot be shown again)."""
    with registry_errors():
        store = _store(database_url_, data_dir)
        try:
            info, token = store.create(name, role, actor_name(actor))
        finally:
            store.engine.dispose()
    err.print(
        f"token {info.id} '{escape(info.name)}' ({info.role.value}) created; it is "
        "shown once, below. Keep it secret.",
        highlight=False,
    )
    print(token)


@token_app.command("list")
def list_cmd(
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    format_: Annotated[TextJson, typer.Option("--format", help="text or json.")] = (TextJson.text),
) -> None:
    """List the tokens: id, name, role, created, revoked (never the tokens)."""
    with registry_errors():
        store = _store(database_url_, data_dir)
        try:
            rows = store.listing()
        finally:
            store.engine.dispose()
    if format_ == TextJson.json:
        print(
            json.dumps(
                [
                    {
                        "id": t.id,
                        "name": t.name,
                        "role": t.role.value,
                        "created_at": t.created_at.isoformat(),
                        "created_by": t.created_by,
                        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                    }
                    for t in rows
                ],
                indent=2,
            )
        )
        return
    t = Table("id", "name", "role", "created", "by", "status")
    for r in rows:
        t.add_row(
            str(r.id),
            escape(r.name),
            r.role.value,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            escape(r.created_by),
            "active"
            if r.active
            else f"revoked {r.revoked_at:%Y-%m-%d %H:%M}"
            if r.revoked_at
            else "",
        )
    out.print(t)


@token_app.command("revoke")
def revoke_cmd(
    token: Annotated[str, typer.Argument(help="The token's id or name (see `list`).")],
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Revoke a token: it stops working at once (sessions made with it too)."""
    with registry_errors():
        store = _store(database_url_, data_dir)
        try:
            info = store.revoke(token, actor_name(actor))
        finally:
            store.engine.dispose()
    err.print(f"token {info.id} '{escape(info.name)}' revoked", highlight=False)
