"""The four PartyGrid services; each is its own process with its own database."""
