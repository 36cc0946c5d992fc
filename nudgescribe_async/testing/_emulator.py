"""`Emulator`: the Nudgescribe API as a real HTTP server on 127.0.0.1, for tests and demos."""

from __future__ import annotations

import collections
import secrets
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from . import _jwt
from ._app import build_app
from ._faults import Faults
from ._seed import add_campaign, seed_account
from ._state import Account, State, make_id

if TYPE_CHECKING:
    from .._client import Client


@attrs.frozen(repr=False)
class EmulatorCredentials:
    """Working credentials for one emulator account. The repr hides the secrets."""

    email: str
    password: str
    api_key: str
    api_code: str
    account_id: str

    def __repr__(self) -> str:
        return f"EmulatorCredentials(email={self.email!r}, account_id={self.account_id!r})"

    def as_kwargs(self) -> dict[str, str]:
        """`Client(**creds.as_kwargs())`."""
        return {
            "email": self.email,
            "password": self.password,
            "api_key": self.api_key,
            "api_code": self.api_code,
        }


class Emulator:
    """A stateful, fault-injecting Nudgescribe API on loopback.

    ```python
    async with Emulator() as emu:
        async with emu.client() as client:
            campaigns = await client.campaigns.list()
    ```

    * `token_lifetime` / `refresh_lifetime`: seconds the JWTs it signs stay valid.
    * `latency`: seconds added to every request; `path_latency` per path.
    * `files`, `rows`, `message_length`: the size of the seeded "Bulk Export" campaign.
    * `rerun_delay`: seconds (on `emu.clock`) a rerun stays `Processing` before it completes.
    * `check_queue_threshold`: a customer check of more rows is queued, and its rows are
      written `check_queue_delay` seconds later (emulator clock); `customer_page_size` is the
      default page size of `/v1/customer`.
    * `emu.faults` breaks the next calls on demand; `emu.counts` counts calls per
      `(method, path)`; `emu.clock.advance(s)` moves the emulator's time.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: float = 14 * 24 * 3600.0,
        refresh_lifetime: float = 15 * 24 * 3600.0,
        latency: float = 0.0,
        files: int = 4,
        rows: int = 250,
        message_length: int = 120,
        seed: str = "demo",
        publish_ready_after: float = 0.05,
        publish_spread: float = 0.1,
        rerun_delay: float = 0.2,
        check_queue_threshold: int = 1000,
        check_queue_delay: float = 0.05,
        customer_page_size: int = 100,
    ) -> None:
        self.host = host
        self.port = port
        self.token_lifetime = token_lifetime
        self.refresh_lifetime = refresh_lifetime
        self.latency = latency
        self.path_latency: dict[str, float] = {}
        self.secret = secrets.token_bytes(32)
        self.api_code = "emulator-api-code"
        self.check_queue_threshold = check_queue_threshold
        self.check_queue_delay = check_queue_delay
        self.customer_page_size = customer_page_size
        self.state = State(
            publish_ready_after=publish_ready_after,
            publish_spread=publish_spread,
            rerun_delay=rerun_delay,
        )
        self.clock = self.state.clock
        self.faults = Faults()
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.seen_headers: collections.deque[tuple[str, str, dict[str, str]]] = collections.deque(
            maxlen=1000
        )
        self.storage_headers: list[dict[str, str]] = []
        self._seed = seed
        self._bulk = {"files": files, "rows": rows, "message_length": message_length}
        self._runner: web.AppRunner | None = None
        self.credentials = self.add_account("demo@example.com", seed=seed, demo=True)

    def __repr__(self) -> str:
        return f"<Emulator {self.base_url if self._runner else 'stopped'}>"

    # -- accounts and tokens -------------------------------------------------------------

    def add_account(
        self, email: str, *, seed: str | None = None, demo: bool = False
    ) -> EmulatorCredentials:
        """A new account (with one empty workspace, or the demo data); its credentials."""
        account = Account(
            account_id=make_id("account", email),
            user_id=make_id("user", email),
            email=email,
            password=secrets.token_urlsafe(12),
            api_key=secrets.token_urlsafe(16),
        )
        self.state.accounts[account.account_id] = account
        seed_account(self.state, account, seed=seed or email, demo=demo, bulk=self._bulk)
        return EmulatorCredentials(
            email=email,
            password=account.password,
            api_key=account.api_key,
            api_code=self.api_code,
            account_id=account.account_id,
        )

    def issue_tokens(self, account: Account) -> dict[str, Any]:
        now = self.clock.now()
        common = {
            "user_id": account.user_id,
            "account_id": account.account_id,
            "role_code": account.role_code,
            "iat": int(now),
        }
        access = _jwt.sign(
            {
                **common,
                "typ": "access",
                "exp": now + self.token_lifetime,
                "jti": secrets.token_hex(8),
            },
            self.secret,
        )
        refresh = _jwt.sign(
            {
                **common,
                "typ": "refresh",
                "exp": now + self.refresh_lifetime,
                "jti": secrets.token_hex(8),
            },
            self.secret,
        )
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": int(self.token_lifetime),
        }

    def set_quota(self, units: int | None, *, account_id: str | None = None) -> None:
        """Units left before publish/pages answer `503 Quota Exceeded` (None: unlimited)."""
        self.state.accounts[account_id or self.credentials.account_id].quota = units

    def add_campaign(
        self,
        name: str,
        *,
        files: int = 2,
        rows: int = 50,
        message_length: int = 80,
        status: str = "Published",
        published: bool = True,
        tricky: bool = True,
        extra_columns: tuple[str, ...] = (),
        account_id: str | None = None,
    ) -> str:
        """A campaign with a synthetic export of `files` x `rows` messages; its id."""
        account = self.state.accounts[account_id or self.credentials.account_id]
        workspace = self.state.default_workspace(account.account_id)
        campaign = add_campaign(
            self.state,
            account,
            workspace,
            name,
            status=status,
            files=files,
            rows=rows,
            message_length=message_length,
            published=published,
            tricky=tricky,
            extra_columns=extra_columns,
        )
        return campaign.campaign_id

    def campaign_id(self, name: str, *, account_id: str | None = None) -> str:
        """The id of a seeded campaign by name ("Spring Sale", "Bulk Export", ...)."""
        owner = account_id or self.credentials.account_id
        for campaign in self.state.campaigns.values():
            if campaign.name == name and campaign.account_id == owner:
                return campaign.campaign_id
        raise KeyError(name)

    def count(self, path: str, method: str | None = None) -> int:
        """How many calls `path` has had (of `method`, or of any)."""
        return sum(n for (m, p), n in self.counts.items() if p == path and method in (None, m))

    # -- serving --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def client(self, **kwargs: Any) -> Client:
        """A `Client` pointed at this emulator with the demo account's credentials."""
        from .._client import Client

        options: dict[str, Any] = {**self.credentials.as_kwargs(), **kwargs}
        return Client(self.base_url, **options)

    async def start(self) -> None:
        app = build_app(self)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
