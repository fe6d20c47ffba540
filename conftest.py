"""Every test folder uses the shared kit: real PostgreSQL and RabbitMQ, the clock, migrated
databases, events, tiers (see ``contracts.testing.plugin``)."""

pytest_plugins = ["contracts.testing.plugin"]
