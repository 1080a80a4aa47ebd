"""Members service HTTP API (port 8001): Party organisations, the member registry, 双报到 of
members and units, co-building agreements, bulk import and the queries built on them.

Every endpoint needs `Authorization: Bearer <token>`; writes need a non-read-only token, and
community/street admins act only inside their region. Errors are JSON:
`{"error": code, "message": ..., "details": [{"field": ..., "rule": ...}]}`, always 4xx for bad
input, and nothing is half-written (one transaction per request).

Party organisations (所属党组织)
    PUT  /v1/party-orgs/{id}            create/change {name, kind, parent_id}; kind is organ,
                                        state_firm, school, hospital, non_public_firm,
                                        social_organisation or community. Publishes
                                        partygrid.party_org.defined.
    GET  /v1/party-orgs[/{id}]
    GET  /v1/party-orgs/{id}/members?category=in_service&include_sub_orgs=false
                                        members of the organisation with their current
                                        community: the basis of the half-yearly feedback.

Members
    POST  /v1/members                   register (member.registered)
    GET   /v1/members/{id}
    PATCH /v1/members/{id}              change; member.registered again only if name, category,
                                        Party organisation or joined date changed
    POST  /v1/members/{id}/deregister   {reason} (member.deregistered)
    POST  /v1/members/{id}/reports      双报到 {community_id, grid_id?, skills?}: the community
                                        (and grid) must be known from partygrid.region.defined;
                                        reporting elsewhere again is a move. 201 when a
                                        member.reported was published, 200 when unchanged.
    GET   /v1/members/{id}/reports      current report and full history (moved_from marks moves)

Personal data: `phone` and `id_number` (GB 11643 check digit validated) are stored only in
this service, never in events or logs, and shown unmasked only to city_admin tokens; others
see `138****0000` and `110105********123X`.

Bulk import
    POST /v1/members/import[?wait=true]  body: text/csv, or multipart/form-data with one file
        part. UTF-8 (with or without BOM) or GBK, as Excel saves it. Header row in Chinese
        (党员编号,姓名,类别,所属党组织,入党日期,手机号,身份证号[,特长,居住社区]) or English
        (member_id,name,category,party_org_id,joined_on,phone,id_number[,skills,
        address_community_id]); 所属党组织 may be an id or an exact name; 类别 accepts
        in_service/resident/mobile/retired or 在职党员/居民党员/流动党员/离退休党员.
        Without wait: 202 and an import job; poll GET /v1/members/import/{job_id} for
        status (queued, running, succeeded, failed) and progress processed/total.
        With wait=true: the finished job, 200 on success, 422 on failure.
        All-or-nothing: any bad row (reported as {line, field, rule}) means nothing is written.
        Empty optional cells keep stored values. Importing the same file again changes nothing
        and publishes nothing. Only city_admin tokens may import.

Units (驻区单位)
    PUT  /v1/units/{id}                 register/change {name, party_org_id, address, member_count}
    POST /v1/units/{id}/report          {community_id}: publishes partygrid.unit.reported
    POST /v1/units/{id}/agreements      契约化共建 {agreement_id, signed_on, valid_until,
                                        commitments: [{content, due_on}]}: publishes
                                        partygrid.unit.agreement_signed
    GET  /v1/units/{id}

Communities
    GET /v1/communities/{id}/members?category=   members currently reported there
    GET /v1/communities/{id}/units               units reported there
    GET /v1/communities/{id}/reporting-rate      in-service members living there (by their
        address_community_id) vs. those of them reported there; also everyone reported there.

Consumed events: partygrid.region.defined, and member.registered / member.reported /
member.deregistered from outside registries (latest by time, source, id wins; reports to
communities not yet known are kept).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import communities, evaluation, imports, members, party_orgs, units

# one module per concept; the order is the order of the OpenAPI document (and of matching:
# GET /v1/members/{member_id}/reports comes before GET /v1/members/import/{job_id})
ROUTERS: list[APIRouter] = [
    party_orgs.router,
    members.router,
    imports.router,
    communities.router,
    units.router,
    evaluation.router,
]
