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
CHECK_VALID_KEYS = ("valid", "is_valid")
CHECK_ERRORS_KEYS = ("errors", "row_errors")
CHECK_QUEUED_KEYS = ("queued", "is_queued")
CHECK_JOB_KEYS = ("job_uid", "job_id", "jobUid")
CREATED_COUNT_KEYS = ("created_count", "created")
ROW_ERROR_ROW_KEYS = ("row", "row_number", "line")
ROW_ERROR_FIELD_KEYS = ("field", "field_name", "column")
ROW_ERROR_MESSAGE_KEYS = ("message", "error")
CUSTOMER_GROUP_ID = "customer_group_id"
CUSTOMER_ID = "customer_id"
CUSTOMER_IDS = "customer_ids"
CUSTOMER_PROFILE_KEYS = ("profile", "data")
PAGE = "page"
PAGE_SIZE = "page_size"
WORKSPACE_ID = "workspace_id"
GROUP_NAME = "name"
GROUP_DESCRIPTION = "description"
GROUP_KEYS = ("customer_group", "group", "data")
FIELD_ID = "field_id"
FIELD_NAME = "field_name"
FIELD_TYPE = "field_type"
FIELD_FORMAT = "field_format"
FIELD_REQUIRED = "required"
FIELD_OPTIONS = "options"
FIELD_KEYS = ("field", "profile_field", "data")
