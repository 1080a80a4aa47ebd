"""Pure domain rules of the activities service: no I/O, no framework, easy to test."""
