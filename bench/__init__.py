"""The performance benchmark of docs/design.md §7 (`make bench` / `python -m bench`).

It measures the scoring service on this machine against its own ceilings, side by side in one
run, so the figures are read as ratios rather than absolute numbers:

- ceilings: raw aiokafka consumption of the same messages, raw PostgreSQL COPY of the same
  ledger rows;
- ingest: activity.logged events into points and rankings, events per second;
- freshness: publish → the member's points visible to the read API, p50/p99;
- reads: ranking and rank endpoints at a large population, p50/p99;
- rebuild: replaying events through the consumer into an empty database, extrapolated to 10M.

Everything runs in-process against its own embedded PostgreSQL and tansu broker (dev.embedded),
so nothing else needs to be running and nothing the suite uses is touched.
"""
