"""Options from arguments or the environment, and the checks made before anything is sent.

Rules of this file:
1. An argument wins over its `NUDGESCRIBE_*` variable; an empty variable counts as unset.
2. Plain `http://` is refused except for loopback hosts, unless the caller opts in by name.
3. Secrets are held in `Credentials`, whose repr shows none of them.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

import attrs

from ._secrets import secret

PRODUCTION_URL = "https://client-api.nudgescribe.com"
DEVELOPMENT_URL = "https://client-api.dev.nudgescribe.com"

ENV_BASE_URL = "NUDGESCRIBE_BASE_URL"
ENV_EMAIL = "NUDGESCRIBE_EMAIL"
ENV_PASSWORD = "NUDGESCRIBE_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
ENV_API_KEY = "NUDGESCRIBE_API_KEY"
ENV_API_CODE = "NUDGESCRIBE_API_CODE"
ENV_CLIENT_IP = "NUDGESCRIBE_CLIENT_IP"

DEFAULT_CLIENT_IP = "127.0.0.1"


def from_env(value: str | None, name: str) -> str | None:
    if value is not None:
        return value
    env = os.environ.get(name)
    return env if env else None


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """The normalised base URL (no trailing slash), or ValueError saying what is wrong."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("base_url must not carry a query, a fragment or user info")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"refusing plain http:// to {parts.hostname}: tokens and passwords would cross the "
            "network unencrypted. Use https://, or pass allow_insecure_http=True if you really "
            "mean it (plain http is accepted without it only for loopback hosts)."
        )
    return base_url.rstrip("/")


@attrs.frozen(repr=False)
class Credentials:
    """What the SDK authenticates with. The repr shows the email only."""

    email: str | None = None
    password: str | None = attrs.field(default=None, converter=secret)
    api_key: str | None = attrs.field(default=None, converter=secret)
    api_code: str | None = attrs.field(default=None, converter=secret)

    def __repr__(self) -> str:
        return (
            f"Credentials(email={self.email!r}, password={_mask(self.password)}, "
            f"api_key={_mask(self.api_key)}, api_code={_mask(self.api_code)})"
        )

    @property
    def can_authenticate(self) -> bool:
        return bool(self.email and self.password)


def _mask(value: str | None) -> str:
    return "None" if value is None else "'***'"
