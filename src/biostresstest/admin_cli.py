"""``biostresstest admin …`` (accounts) and ``biostresstest local …`` (local data per gemeente)."""

from __future__ import annotations

import getpass
import json
import os

import click

from biostresstest.core.errors import InvalidInput
from biostresstest.core.settings import get_settings

PASSWORD_ENV = "BIOSTRESSTEST_ADMIN_PASSWORD"


@click.group()
def admin() -> None:
    """Admin accounts per gemeente (there is no default account)."""


@admin.command("add-user")
@click.option("--gemeente", required=True, help="CBS gemeente code, e.g. GM0758.")
@click.option("--email", required=True, help="E-mail address of the admin (the login name).")
def add_user(gemeente: str, email: str) -> None:
    """Create an admin of one gemeente (password from BIOSTRESSTEST_ADMIN_PASSWORD or a prompt)."""
    from biostresstest.model.accounts import AccountStore

    password = os.environ.get(PASSWORD_ENV) or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    store = AccountStore(get_settings().data_dir / "accounts.sqlite")
    account = store.add_user(email, gemeente, password)
    click.echo(f"admin {account.email} of {account.gemeente} is ready")


@admin.command("list-users")
def list_users() -> None:
    """Print the admin accounts."""
    from biostresstest.model.accounts import AccountStore

    for account in AccountStore(get_settings().data_dir / "accounts.sqlite").users():
        click.echo(f"{account.gemeente}  {account.email}")


@click.group()
def local() -> None:
    """Local data of a gemeente: import and list."""


@local.command("import")
@click.option("--gemeente", required=True, help="CBS gemeente code, e.g. GM0080.")
@click.option("--kind", required=True, help="trees, verges, green_maintenance, species, …")
@click.option("--name", default=None, help="Dataset name (default: the kind).")
@click.option("--map", "mappings", multiple=True, help="field=column, e.g. species=BOOMSOORT.")
@click.option("--crs", default=None, help="CRS of a CSV's x/y columns (default EPSG:28992).")
@click.option("--repair", is_flag=True, help="Make invalid geometries valid (and count them).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_(
    gemeente: str,
    kind: str,
    name: str | None,
    mappings: tuple[str, ...],
    crs: str | None,
    repair: bool,
    file: str,
) -> None:
    """Import FILE as local data of a gemeente, switched live in one atomic step."""
    from pathlib import Path

    from biostresstest.sources.upload import import_file

    mapping = None
    if mappings:
        pairs = [m.split("=", 1) for m in mappings]
        if any(len(p) != 2 for p in pairs):
            raise InvalidInput("--map takes field=column", hint="e.g. --map species=BOOMSOORT")
        mapping = {k.strip(): v.strip() for k, v in pairs}
    who = f"cli:{getpass.getuser()}"
    record = import_file(
        get_settings(), gemeente, Path(file), kind, who, mapping, None, name, crs, repair
    )
    click.echo(
        f"{record.name} ({record.kind}): {record.features} features imported for "
        f"{gemeente.upper()}; mapping {json.dumps(record.mapping, ensure_ascii=False)}"
    )


@local.command("list")
@click.option("--gemeente", required=True)
def list_(gemeente: str) -> None:
    """Print the live local datasets of a gemeente."""
    from biostresstest.model.local_data import local_store

    for record in local_store(get_settings()).datasets(gemeente):
        click.echo(f"{record.name}  {record.kind}  {record.features}  {record.sha256[:12]}")
