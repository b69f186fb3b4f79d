"""Analytics for the board: pure functions over DataFrames, with no database or Streamlit.

`reach`       weekly and monthly reach from engagement snapshots, and `align` to set it beside
              report counts on one calendar.
`effect`      the campaign's effect on reporting (segmented Poisson / negative binomial
              regression) and `describe`, its paragraph for the board.
`synthetic`   weekly series with a known effect, for tests and the demo.
`disclosure`  `suppress`: small-count suppression with secondary suppression for published tables.
`periods`     the shared calendar: ISO weeks, months, campaign exposure per week.

Modules are imported directly (`from campaigns.analysis.disclosure import suppress`) so that a
page needing only disclosure control does not load statsmodels.
"""
