"""`python -m campaigns` is the `chorus` command."""

from campaigns.cli import main

main()
