"""What every resource shares: a reference to the client and the two ways to call it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._args import text

if TYPE_CHECKING:
    from .._client import Client


class Resource:
    """Base of `client.campaigns`, `client.messages`, ...: holds the client, nothing else."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _read(self, path: str, body: Any) -> Any:
        """An idempotent call (retried per the client's policy)."""
        return await self._client.request_json("POST", path, body, idempotent=True)

    async def _write(self, method: str, path: str, body: Any) -> Any:
        """A call that must not run twice: never retried automatically."""
        return await self._client.request_json(method, path, body, idempotent=False)


def check_id(value: object, name: str = "campaign_id") -> str:
    """An id argument: a non-empty string, or a clear error before anything is sent."""
    return text(value, name)
