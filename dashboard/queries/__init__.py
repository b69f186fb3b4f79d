"""What the dashboard shows: SQL aggregates and listings as DataFrames, scoped to the viewer.

Every function takes `session` and, where data belongs to an organisation, the `viewer`: a
partner's queries are filtered to its own organisation here, in SQL, so a page cannot show
another organisation's rows by forgetting to hide them. No Streamlit in this package.

Pages import everything from here (`from dashboard import queries`); the modules beside this
one hold the listings by subject.
"""

from dashboard.queries.campaign_listings import (
    CAMPAIGN_COLUMNS,
    NOT_PLANNED,
    PLANNED,
    PREVIEW_COLUMNS,
    CampaignInfo,
    campaign_info,
    campaign_years,
    campaigns,
    events_for_year,
    events_summary,
    variant_previews,
)
from dashboard.queries.common import (
    CONSENT_NAMES,
    MAX_ROWS,
    NEEDS_ATTENTION,
    SANDBOX_LABEL,
    STATUS_ORDER,
    SYNTHETIC_LABEL,
    WAITING,
    S,
    _campaign,
    _frame,
    _organisation_names,
    _own_organisation,
    _visible_campaigns,
    account_label,
    day_text,
    local_text,
)
from dashboard.queries.delivery_listings import (
    ACCOUNT_COLUMNS,
    ATTENTION_COLUMNS,
    DELIVERY_COLUMNS,
    IDS,
    RESOLUTIONS,
    DeliveryFilter,
    Headline,
    account_health,
    account_keys,
    deliveries,
    headline,
    needs_attention,
    next_step,
    posting_pause,
    status_counts,
    status_summary,
)
from dashboard.queries.partner_listings import (
    consent_matrix,
    datasets,
    partners,
    share_kit,
    share_kit_options,
)

__all__ = [
    "ACCOUNT_COLUMNS", "ATTENTION_COLUMNS", "CAMPAIGN_COLUMNS", "CONSENT_NAMES",
    "DELIVERY_COLUMNS", "IDS", "MAX_ROWS", "NEEDS_ATTENTION", "NOT_PLANNED", "PLANNED",
    "PREVIEW_COLUMNS", "RESOLUTIONS", "SANDBOX_LABEL", "STATUS_ORDER", "SYNTHETIC_LABEL",
    "WAITING", "CampaignInfo", "DeliveryFilter", "Headline", "S", "_campaign", "_frame",
    "_organisation_names", "_own_organisation", "_visible_campaigns", "account_health",
    "account_keys", "account_label", "campaign_info", "campaign_years", "campaigns",
    "consent_matrix", "datasets", "day_text", "deliveries", "events_for_year", "events_summary",
    "headline", "local_text", "needs_attention", "next_step", "partners", "posting_pause",
    "share_kit", "share_kit_options", "status_counts", "status_summary", "variant_previews",
]
