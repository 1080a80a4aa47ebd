"""HTTP API of the grids service (port 8002). Every endpoint needs a bearer token; writes need
a writing role, and street/community admins act only inside their own region.

Region tree (district → street → community → grid → building, keyed by administrative code):
- `POST   /v1/regions`                      create {region_id, level, name, parent_id}
- `PATCH  /v1/regions/{id}`                 rename (name), move (parent_id), retire/revive
                                            (retired); levels must nest, no cycle, no live
                                            children under a retired region
- `POST   /v1/regions/import?dry_run=`      CSV body (text/csv) with header
                                            region_id,level,name,parent_id[,retired]: creates,
                                            renames, moves, retires; all or nothing, errors
                                            carry their line number
- `GET    /v1/regions?level=&orphans=`      list (city-wide tokens); orphans = flagged regions
- `GET    /v1/regions/{id}`, `/path` (to the root), `/children`, `/subtree?max_depth=`
  Every change publishes partygrid.region.defined; outside region.defined events are consumed
  with the same latest-wins rule and flagged `orphan` until their parent is known.

Grids (一网格一支部):
- `GET    /v1/grids/{grid_id}`              leader, workers, household contacts, branch, members
- `PUT    /v1/grids/{grid_id}/staff/{staff_id}`  {role, name, member_id, building_id}; a new
                                            leader replaces the old one
- `DELETE /v1/grids/{grid_id}/staff/{staff_id}`
- `PUT    /v1/grids/{grid_id}/branch`       {party_org_id, name};  `DELETE` detaches it
- `GET    /v1/grids/coverage?within=`       grids lacking a leader, a worker or a branch
- `GET    /v1/grids/{grid_id}/members`      members living in the grid (from member events)
- `GET    /v1/grids/member-counts?within=`  member counts by category per grid
- `POST   /v1/grids/{grid_id}/visits`       log a visit (入户走访); by a member it also
                                            publishes activity.logged (grid_visit);  `GET` lists

One router module per concept: `regions`, `grids` (staff, branch, members by grid), `visits`,
`incidents` (事在网中办), `satisfaction` (residents' ratings of incidents) and `visitduty`
(the daily visiting duty); `common` holds what they share.
Errors are JSON: {"error", "message", "details": [{rule, field, line, …}]}.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import grids, incidents, regions, satisfaction, visitduty, visits

# one module per concept (the OpenAPI tag); the order is the order of the OpenAPI document and
# of path matching (a fixed path such as /v1/grids/coverage precedes /v1/grids/{grid_id})
ROUTERS: list[APIRouter] = [
    regions.router,
    grids.router,
    visits.router,
    incidents.router,
    satisfaction.router,
    visitduty.router,
]
