"""The database: models, engine and migrations, and the stores that read and write them
(content loading and export, plans, sign-off, pause, deliveries, accounts, users, reports)."""
