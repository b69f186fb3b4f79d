"""The pure core: awareness-calendar rules, text measurement, planning, delivery states,
time zones and the clock. Plain functions and dataclasses; no database, network or UI."""
