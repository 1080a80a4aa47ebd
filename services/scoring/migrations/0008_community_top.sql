-- The top of a community's member ranking, read straight off an index: each member's period
-- totals carry the member's community (kept in step with members.community_id when a member
-- moves), so the top 50 of a community of hundreds is the first 50 entries of one index range
-- instead of every member's total looked up and sorted. Every change of points now also
-- writes this index (the totals' updates are no longer in-place HOT updates): the price of a
-- ranking as cheap as a point read.
ALTER TABLE member_points ADD COLUMN community_id text;
UPDATE member_points p SET community_id = m.community_id
FROM members m WHERE m.member_id = p.member_id AND m.community_id IS NOT NULL;
CREATE INDEX member_points_community_top ON member_points (period, community_id, points DESC, member_id)
    WHERE community_id IS NOT NULL;
