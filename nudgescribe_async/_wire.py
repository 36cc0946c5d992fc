"""Every wire name the public docs do not fix ([A] in CONTRACT.md), in one place.

Rules of this file:
1. Only names and alternatives live here; no logic. A correction of the real API is a one-line
   change in this file.
2. Each tuple lists the names we accept, the one we expect first. `pick()` in `_convert.py`
   takes the first that is present.
"""

from __future__ import annotations

# §2 Authentication
AUTH_EMAIL = "email"
AUTH_PASSWORD = "password"  # noqa: S105 - a JSON field name, not a secret
ACCESS_TOKEN_KEYS = ("access_token", "token", "accessToken")
REFRESH_TOKEN_KEYS = ("refresh_token", "refreshToken")
EXPIRES_IN_KEYS = ("expires_in", "expiresIn")

# §3 Errors
ERROR_MESSAGE_KEYS = ("message", "error", "detail")

# §4 Campaigns and export
CAMPAIGN_START_DATE = "start_date"
CAMPAIGN_END_DATE = "end_date"
WORKSPACES_KEYS = ("workspaces", "data")
WORKSPACE_CAMPAIGNS_KEYS = ("campaigns",)
FILE_COUNT_KEYS = ("num_files", "pages", "count", "total_files")
FETCH_CSV_KEYS = ("data",)
FETCH_ROWS_KEYS = ("data", "messages")
FETCH_URL_KEYS = ("url", "data")
URL_EXPIRES_KEYS = ("expires_at", "expiresAt")

# §5 Reruns
HISTORY_LIST_KEYS = ("history", "runs", "data")
RUN_MESSAGES_LIST_KEYS = ("messages", "data")
RUN_MESSAGE_FIELDS = (
    "message_id",
    "customer_id",
    "run_number",
    "segment",
    "message",
    "review_status",
    "approval_stage",
    "status",
    "is_archived",
    "archived_at",
)
SEGMENT_NAME = "name"  # a segment sent as a bare string is kept as {"name": "<string>"}
# The status of a run whose processing has not finished. The docs name none; history shows
# progress only through `status` and `completed_at` (null while processing).
RUN_PROCESSING_STATUS = "Processing"
RUN_PROCESSING_ALIASES = ("processing", "queued", "pending", "in progress", "running")

# §6 Content
CHECK_ROWS = "customers"
CHECK_FILE_FIELD = "file"
CUSTOMER_PAGES_KEYS = ("pages", "num_pages", "count")
CUSTOMER_TOTAL_KEYS = ("total_customers", "total")
CUSTOMERS_LIST_KEYS = ("customers", "data")
CUSTOMER_GROUPS_LIST_KEYS = ("customer_groups", "groups", "data")
PROFILE_FIELDS_LIST_KEYS = ("fields", "profile_fields", "data")
UPDATED_COUNT_KEYS = ("updated_count", "updated")
DELETED_COUNT_KEYS = ("deleted_count", "deleted")
