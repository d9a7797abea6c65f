"""The client's IP address for rate limits, honouring ``X-Forwarded-For`` only from trusted proxies.

Why one place: every per-IP limiter (web-chat messages, chat-session minting, console logins)
must agree on who the client is. Taking ``X-Forwarded-For`` from anyone would let a client pick a
fresh "IP" per request and walk past every limit; ignoring it behind a reverse proxy would put
all users under the proxy's one address. So the header counts only when the TCP peer is a
trusted proxy (``RJ_TRUSTED_PROXIES``: addresses or networks, comma-separated; ``loopback`` for
127.0.0.0/8 and ::1; default none), and it is read from the right: the first address that is not
itself a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["parse_trusted", "client_ip"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")


@lru_cache(maxsize=16)
def parse_trusted(value: str | None) -> tuple[Network, ...]:
    """'10.0.0.0/8, 192.168.1.5, loopback' → networks; raises ValueError on a bad entry so a
    typo stops the start instead of silently trusting nobody (or everybody)."""
    networks: list[Network] = []
    for entry in (value or "").replace(";", ",").split(","):
        entry = entry.strip()
        if not entry or entry.lower() in ("none", "off"):
            continue
        for item in LOOPBACK if entry.lower() in ("loopback", "localhost") else (entry,):
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _address(text: str | None):
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:  # [::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 1.2.3.4:5678
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, trusted: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_ip(
    peer: str | None, forwarded_for: Iterable[str] | str | None, trusted: Iterable[Network]
) -> str:
    """The client address: the TCP ``peer`` unless it is a trusted proxy, then the right-most
    ``X-Forwarded-For`` entry that is not a trusted proxy (several headers are read as one list).
    An unparsable entry ends the walk at the last good hop. 'unknown' when there is no peer."""
    trusted = tuple(trusted)
    current = _address(peer)
    if current is None:
        return (peer or "").strip() or "unknown"
    if isinstance(forwarded_for, str):
        forwarded_for = [forwarded_for]
    hops = [hop for header in forwarded_for or () for hop in header.split(",")]
    while _trusted(current, trusted) and hops:
        previous = _address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)
