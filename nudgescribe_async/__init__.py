"""nudgescribe-async: the async Python SDK for the Nudgescribe API."""

from ._client import Client as Client
from ._client import InsecureTransportWarning as InsecureTransportWarning
from ._errors import APIError as APIError
from ._errors import AuthenticationError as AuthenticationError
from ._errors import BadRequestError as BadRequestError
from ._errors import InvalidWorkspaceError as InvalidWorkspaceError
from ._errors import NetworkError as NetworkError
from ._errors import NetworkTimeoutError as NetworkTimeoutError
from ._errors import NotFoundError as NotFoundError
from ._errors import NudgescribeError as NudgescribeError
from ._errors import PermissionDeniedError as PermissionDeniedError
from ._errors import QuotaExceededError as QuotaExceededError
from ._errors import RateLimitError as RateLimitError
from ._errors import RerunPreconditionError as RerunPreconditionError
from ._errors import RerunPreconditionReason as RerunPreconditionReason
from ._errors import ResponseDecodeError as ResponseDecodeError
from ._errors import ServerError as ServerError
from ._errors import WaitTimeoutError as WaitTimeoutError
from ._export import ExportStream as ExportStream
from ._export import JsonRowLimitWarning as JsonRowLimitWarning
from ._retry import RetryPolicy as RetryPolicy
from ._version import __version__ as __version__
from .models.campaigns import Campaign as Campaign
from .models.campaigns import CampaignStatus as CampaignStatus
from .models.customer_groups import CustomerGroup as CustomerGroup
from .models.customers import CheckResult as CheckResult
from .models.customers import Customer as Customer
from .models.customers import RowError as RowError
from .models.messages import MessageRecord as MessageRecord
from .models.messages import PresignedUrl as PresignedUrl
from .models.messages import PublishResult as PublishResult
from .models.profile_fields import CURRENCY_CODES as CURRENCY_CODES
from .models.profile_fields import DATE_FORMATS as DATE_FORMATS
from .models.profile_fields import FieldType as FieldType
from .models.profile_fields import ProfileField as ProfileField
from .models.reruns import ComparisonSummary as ComparisonSummary
from .models.reruns import RerunStarted as RerunStarted
from .models.reruns import RunHistoryEntry as RunHistoryEntry
from .models.reruns import RunMessage as RunMessage
from .models.reruns import RunUpdate as RunUpdate
from .resources._rerun_watch import RunWatch as RunWatch

# Plain sorted() order (a test guards it), not ruff's isort-style order with constants first.
__all__ = [  # noqa: RUF022
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CURRENCY_CODES",
    "Campaign",
    "CampaignStatus",
    "CheckResult",
    "Client",
    "ComparisonSummary",
    "Customer",
    "CustomerGroup",
    "DATE_FORMATS",
    "ExportStream",
    "FieldType",
    "InsecureTransportWarning",
    "InvalidWorkspaceError",
    "JsonRowLimitWarning",
    "MessageRecord",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "NudgescribeError",
    "PermissionDeniedError",
    "PresignedUrl",
    "ProfileField",
    "PublishResult",
    "QuotaExceededError",
    "RateLimitError",
    "RerunPreconditionError",
    "RerunPreconditionReason",
    "RerunStarted",
    "ResponseDecodeError",
    "RetryPolicy",
    "RowError",
    "RunHistoryEntry",
    "RunMessage",
    "RunUpdate",
    "RunWatch",
    "ServerError",
    "WaitTimeoutError",
    "__version__",
]
