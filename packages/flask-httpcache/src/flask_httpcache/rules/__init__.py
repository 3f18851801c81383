"""The rules of RFC 9111 (HTTP Caching), RFC 9110 (fields, conditional requests) and RFC 9213
(targeted fields), one function each, in one module per part of the RFCs.

Every function here is pure: it takes header values and times and returns a decision, so the
rules can be tested without Flask. The functions are named by the rule they implement and their
docstrings name the section. The names are all available from here (``rules.freshness_lifetime``).
"""

from __future__ import annotations

from .fields import (
    CASELESS_FIELDS,
    LIST_FIELDS,
    Directives,
    delta_seconds,
    http_timestamp,
    normalize_field_value,
    split_commas,
    strict_http_date,
    vary_names,
)
from .freshness import (
    age_value,
    current_age,
    forbids_serving_stale,
    freshness_lifetime,
    heuristic_freshness,
    is_no_cache,
    parse_directives,
)
from .preconditions import (
    NOT_MODIFIED_FIELDS,
    etag_matches_strongly,
    etag_matches_weakly,
    field_etags,
    not_modified_since,
    precondition_outcome,
    unmodified_since_fails,
    validation_selects,
)
from .storage import (
    HEURISTICALLY_CACHEABLE,
    SAFE_METHODS,
    UNDERSTOOD_STATUS,
    UNSTORED_FIELDS,
    authorization_allows_sharing,
    forbids_storing,
    has_explicit_freshness,
    is_final_storable_status,
    is_storable_method,
    unstored_fields,
)
from .targeted import (
    parse_targeted_field,
    targeted_directives,
)

__all__ = [
    "CASELESS_FIELDS",
    "HEURISTICALLY_CACHEABLE",
    "LIST_FIELDS",
    "NOT_MODIFIED_FIELDS",
    "SAFE_METHODS",
    "UNDERSTOOD_STATUS",
    "UNSTORED_FIELDS",
    "Directives",
    "age_value",
    "authorization_allows_sharing",
    "current_age",
    "delta_seconds",
    "etag_matches_strongly",
    "etag_matches_weakly",
    "field_etags",
    "forbids_serving_stale",
    "forbids_storing",
    "freshness_lifetime",
    "has_explicit_freshness",
    "heuristic_freshness",
    "http_timestamp",
    "is_final_storable_status",
    "is_no_cache",
    "is_storable_method",
    "normalize_field_value",
    "not_modified_since",
    "parse_directives",
    "parse_targeted_field",
    "precondition_outcome",
    "split_commas",
    "strict_http_date",
    "targeted_directives",
    "unmodified_since_fails",
    "unstored_fields",
    "validation_selects",
    "vary_names",
]
