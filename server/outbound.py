"""Where the server may send a request of its own (webhooks, DingTalk/WeCom/Feishu robots): not into its own network.

An ADMIN who saves a webhook or a robot address chooses where the server connects. Without a check, that is a
way to reach what only the server can reach (server-side request forgery): the metadata service of a cloud
machine (169.254.169.254), Redis or PostgreSQL on localhost, an intranet service. So a destination must be a
public address, except the networks listed in OUTBOUND_ALLOW_PRIVATE (an ERP inside the company's network).

Checked twice: when the address is saved (a literal private address or a localhost name is refused at once, with
a message), and before every request, on the addresses the name resolves to then (a public name that resolves
to a private address later, DNS rebinding, is refused at send time).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from server.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class DestinationRefused(Exception):
    """The destination is (or resolves to) an address the server must not send to."""


def _public(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified)


def allowed(address: Address) -> bool:
    """A public address, or one inside a network of OUTBOUND_ALLOW_PRIVATE."""
    if _public(address):
        return True
    return any(address in ipaddress.ip_network(net) for net in get_settings().outbound_allow_private)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def saved_refusal(url: str) -> str | None:
    """Why `url` may not be saved as a destination (None: it may). Only what is known without DNS."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    literal = _literal(host)
    if literal is not None:
        return None if allowed(literal) else f"{literal} is not a public address"
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES):
        return None if any(allowed(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")) else f"{host} is local"
    return None


async def check(url: str) -> None:
    """Before a request: every address `url`'s host resolves to must be allowed. Raises DestinationRefused."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except OSError as exc:
            raise DestinationRefused(f"{host}: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    refused = [str(a) for a in addresses if not allowed(a)]
    if refused or not addresses:
        raise DestinationRefused(f"{host} resolves to {', '.join(refused) or 'nothing'}: not a public address "
                                 "(OUTBOUND_ALLOW_PRIVATE lists the private networks allowed)")
