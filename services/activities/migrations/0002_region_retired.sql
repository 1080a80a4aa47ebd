-- Requests naming a community are checked against the region projection, which must know
-- whether a region was retired (a retired community takes no new activities, wishes or posts).
-- Rows projected before this column existed count as live until their next region.defined.
ALTER TABLE region_projection ADD COLUMN retired boolean NOT NULL DEFAULT false;
