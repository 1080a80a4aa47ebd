-- Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
-- Each service owns its own database and never reads another's (docs/design.md §2); the services
-- would create a missing database themselves, but creating them here keeps the first start
-- free of races and makes the layout visible to an operator.
CREATE DATABASE partygrid_members;
CREATE DATABASE partygrid_grids;
CREATE DATABASE partygrid_activities;
CREATE DATABASE partygrid_scoring;
