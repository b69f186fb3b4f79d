"""Files in and out: the content schema and YAML reader, source positions, share kits,
bulk-post CSVs and reporting-data layouts. Pure parsing and rendering; no database."""
