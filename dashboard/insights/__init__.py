"""What the board overview and the Data page show: SQL aggregates of engagement and reporting
as DataFrames, and the plain steps from them to what the board reads.

One module per part of the board page; import from the module itself (nothing is re-exported):

- periods: whole weeks, Monday to Sunday, and how days and weeks are written (used by all)
- reach: posts, impressions and engagements gained each week, by partner, network or campaign
- reports: weekly report counts for an area, and the same under disclosure control
- awareness: the dates of awareness events, with the partnership's campaign for each
- headline: the headline figures, each beside the period before
- partners: partners' contribution and the reach of each campaign
- networks: engagement on each network
- freshness: how up to date the figures are
- overview: all of the above put together for one period and area, as the page and board pack
  show it
- effect_estimates: the estimated effect of each awareness window on weekly reports
- uploads: the Data page's preview of an uploaded reporting file

No Streamlit here: `dashboard.data` caches these functions, and the pages lay out what they
return.
"""
