"""Reference records: ``jessr org add``, ``jessr site add``, ``jessr user add``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

ROLES = ("admin", "coordinator", "staff", "volunteer")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``jessr org add``, ``jessr site add`` and ``jessr user add``."""
    org = sub.add_parser("org", help="organizations: jessr org add CODE --name NAME --region R")
    org_actions = org.add_subparsers(dest="org_command", required=True, metavar="ACTION")
    add = org_actions.add_parser("add", help="add an organization")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--region", required=True, help="ISO 3166-2 code, e.g. TN-11")
    add.add_argument("--parent", metavar="CODE", help="the parent organization's code")
    add.set_defaults(func=_org_add)

    site = sub.add_parser("site", help="sites: jessr site add CODE --org CODE --name NAME …")
    site_actions = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    add = site_actions.add_parser("add", help="add a site of an organization")
    add.add_argument("code")
    add.add_argument("--org", required=True, metavar="CODE")
    add.add_argument("--name", required=True)
    add.add_argument("--lat", type=_degrees)
    add.add_argument("--lon", type=_degrees)
    add.add_argument("--address", metavar="TEXT")
    add.add_argument("--region", help="ISO 3166-2 code (default: the organization's region)")
    add.set_defaults(func=_site_add)

    user = sub.add_parser("user", help="accounts: jessr user add EMAIL --role ROLE …")
    user_actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_actions.add_parser("add", help="add a user account")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--org", metavar="CODE")
    add.add_argument("--volunteer", metavar="REF", help="the volunteer record (REF or ORG/REF)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (stored as Argon2id)",
    )
    add.set_defaults(func=_user_add)


def _degrees(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected decimal degrees, got {text!r}") from None


def _org_add(ns: argparse.Namespace) -> int:
    from engine.commands._common import operation
    from engine.organizations import add_organization

    with operation() as (settings, session):
        org, created = add_organization(
            session, ns.code, ns.name, ns.region, settings.actor, parent=ns.parent
        )
    print(f"organization {org.code} {'added' if created else 'unchanged'}")
    return 0


def _site_add(ns: argparse.Namespace) -> int:
    from engine.commands._common import operation
    from engine.organizations import add_site

    with operation() as (settings, session):
        lat, lon = ns.lat, ns.lon
        if lat is None and lon is None and ns.address and ns.address.strip():
            from engine.errors import InputError
            from engine.geocache import database_geocoder
            from engine.geocode import GeocodeError

            try:  # through the database's geocoding cache (JESSR_GEOCODER)
                place = database_geocoder(session, settings.geocoder).locate(ns.address)
            except GeocodeError as exc:
                raise InputError(f"address: {exc}") from None
            lat, lon = place.lat, place.lon
        site, created = add_site(
            session,
            ns.code,
            ns.org,
            ns.name,
            settings.actor,
            lat=lat,
            lon=lon,
            address=ns.address,
            region=ns.region,
        )
    print(f"site {ns.org}/{site.code} {'added' if created else 'unchanged'}")
    return 0


def _user_add(ns: argparse.Namespace) -> int:
    from engine.commands._common import operation
    from engine.errors import InputError
    from engine.users import add_user

    password = None
    if ns.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin: no password on standard input")
    with operation() as (settings, session):
        user = add_user(
            session,
            ns.email,
            ns.role,
            settings.actor,
            org=ns.org,
            volunteer=ns.volunteer,
            password=password,
        )
    print(f"user {user.email} added ({user.role})")
    return 0
