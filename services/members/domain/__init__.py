"""Pure domain rules of the members service: personal data checks and masking, event ordering,
CSV import parsing. No I/O here, so every rule can be tested on its own."""
