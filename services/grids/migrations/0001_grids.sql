-- Region tree district → street → community → grid → building, keyed by administrative code.
-- Each row holds the winning version: the latest region.defined by (time, source, id), whether
-- it came from this service's API or from an outside system (civil affairs).
CREATE TABLE regions (
    region_id   text PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid', 'building')),
    depth       smallint NOT NULL CHECK (depth BETWEEN 0 AND 4),
    name        text NOT NULL,
    parent_id   text,
    retired     boolean NOT NULL DEFAULT false,
    ev_time     timestamptz NOT NULL,
    ev_source   text COLLATE "C" NOT NULL,
    ev_id       text COLLATE "C" NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX regions_parent ON regions (parent_id);

-- Derived, never stored, so it cannot go stale whatever order events arrive in:
-- orphan = the parent is not known (yet); misplaced = the parent's level is not the one
-- directly above (possible only for regions defined by outside systems).
CREATE VIEW regions_v AS
SELECT r.*,
       (r.parent_id IS NOT NULL AND p.region_id IS NULL) AS orphan,
       (p.region_id IS NOT NULL AND p.depth <> r.depth - 1)
           OR (r.depth = 0 AND r.parent_id IS NOT NULL) AS misplaced
FROM regions r LEFT JOIN regions p ON p.region_id = r.parent_id;

-- Grid staff (一网格一支部): one leader, workers, member households that are contact points.
CREATE TABLE grid_staff (
    grid_id     text NOT NULL,
    staff_id    text NOT NULL,
    role        text NOT NULL CHECK (role IN ('leader', 'worker', 'household_contact')),
    name        text NOT NULL,
    member_id   text,
    building_id text,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grid_id, staff_id)
);
CREATE UNIQUE INDEX grid_staff_one_leader ON grid_staff (grid_id) WHERE role = 'leader';

CREATE TABLE grid_branches (
    grid_id      text PRIMARY KEY,
    party_org_id text NOT NULL,
    name         text NOT NULL,
    attached_at  timestamptz NOT NULL DEFAULT now()
);

-- Projection of members by grid, fed by member.reported / registered / deregistered.
-- Each part keeps its own latest event so the result is independent of arrival order.
CREATE TABLE grid_members (
    member_id      text PRIMARY KEY,
    community_id   text,
    grid_id        text,
    rep_time       timestamptz,
    rep_source     text COLLATE "C",
    rep_id         text COLLATE "C",
    category       text,
    reg_time       timestamptz,
    reg_source     text COLLATE "C",
    reg_id         text COLLATE "C",
    deregistered_at timestamptz
);
CREATE INDEX grid_members_grid ON grid_members (grid_id);

-- Grid visits (入户走访). Notes stay here; they never go into events.
CREATE TABLE visits (
    visit_id         text PRIMARY KEY,
    grid_id          text NOT NULL,
    staff_id         text NOT NULL,
    member_id        text,
    households       int NOT NULL,
    duration_minutes int NOT NULL,
    notes            text NOT NULL DEFAULT '',
    visited_at       timestamptz NOT NULL,
    logged_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visits_grid ON visits (grid_id, visited_at DESC);

-- Incidents handled in the grid (事在网中办).
CREATE TABLE incidents (
    incident_id   text PRIMARY KEY,
    grid_id       text NOT NULL,
    category      text NOT NULL,
    title         text NOT NULL,
    description   text NOT NULL DEFAULT '',
    status        text NOT NULL CHECK (status IN ('open', 'assigned', 'resolved', 'closed')),
    reported_at   timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    assignee_id   text,
    resolution    text,
    resolved_at   timestamptz,
    closed_at     timestamptz,
    supervised_at timestamptz,
    supervision_note text,
    overdue_flagged_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_grid ON incidents (grid_id, status);
CREATE INDEX incidents_unresolved_due ON incidents (due_at) WHERE status IN ('open', 'assigned');
