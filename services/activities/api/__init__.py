"""HTTP API of the activities service (port 8003). Every endpoint needs a bearer token; writes
need a token that may write, and everything tied to a community needs a token whose region
scope contains that community (a street admin acts in the street's communities). Errors are
JSON: {"error", "message", "details"} with a 4xx status; nothing is half-written.

Activities (organised by a Party organisation or a community):
  POST /v1/activities                          create (draft; "publish": true publishes at once)
  GET  /v1/activities?community_id=&status=    list;  GET /v1/activities/{id}  with participants
  POST /v1/activities/{id}/publish             publish (partygrid.activity.published)
  POST /v1/activities/{id}/cancel              cancel; every confirmed participation is revoked
  POST /v1/activities/{id}/signups             sign up a member (within capacity, once)
  GET  /v1/activities/{id}/checkin-code        the code to show at the venue (valid 5 minutes)
  POST /v1/activities/{id}/checkins            check in with the code (window: 30 min before
                                               the start to 1 h after the end; walk-ins take a
                                               free place)
  POST /v1/activities/{id}/checkouts           check out; hours (0 < h <= 24) for volunteering
  POST /v1/activities/{id}/confirmations       organiser confirms → one partygrid.activity.logged
                                               per participation (deterministic id; retry = no-op)
  POST /v1/activities/{id}/participants/{member_id}/cancel   cancel (revokes if confirmed)
Small wishes (微心愿):
  POST /v1/wishes, GET /v1/wishes, GET /v1/wishes/{id}
  POST /v1/wishes/{id}/claim      one member wins; others 409; expired wishes cannot be claimed
  POST /v1/wishes/{id}/fulfil     community confirms → activity.logged wish_fulfilled
  POST /v1/wishes/{id}/cancel     (revokes the logged activity if it was fulfilled)
Service posts (设岗定责):
  POST /v1/service-posts, GET /v1/service-posts, GET /v1/service-posts/{id}
  POST /v1/service-posts/{id}/claim, /release
  POST /v1/service-posts/{id}/fulfilments   a month confirmed → activity.logged service_post
                                            (one per post, member and month)
Three lists (三张清单, 双向认领):
  POST/GET /v1/needs (communities), POST/GET /v1/resources (resident units)
  POST /v1/needs/{id}/claim (a unit), POST /v1/resources/{id}/claim (a community)
       → a co-building project (partygrid.project.created)
  GET /v1/projects, GET /v1/projects/{id}, POST /v1/projects/{id}/progress,
  POST /v1/projects/{id}/participants, POST /v1/projects/{id}/service
       → activity.logged volunteer_service with hours

Members are checked against a local projection of member.registered / reported /
deregistered: an unknown or deregistered member is refused with 422. A community named in a
request (community_id, a community organiser_id, a unit's community) is checked against the
projection of partygrid.region.defined: unknown, not a community or — for anything new —
retired is 422 saying what is accepted; a community_id filter accepts a retired community.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import activities, lists, meetings, posts, satisfaction, timebank, wishes

# one module per concept; the order is the order of the OpenAPI document
ROUTERS: list[APIRouter] = [
    activities.router,
    wishes.router,
    posts.router,
    lists.router,
    meetings.router,
    timebank.router,
    satisfaction.router,
]
