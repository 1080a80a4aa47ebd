"""PartyGrid's shared package: the one place for event schemas, settings, database access,
outbox and inbox, metrics and the service skeleton that every service is built from.

Services import from here and never from each other: the event schemas in `shared.events`
are the contract between them.
"""
