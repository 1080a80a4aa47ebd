"""SQL of the activities service (asyncpg), one module per concept: `activities`
(participations, check-in codes), `wishes`, `posts`, `lists` (needs, resources, projects),
`meetings`, `timebank`, `satisfaction`, and `common` (the projections the use cases check
against). Every function takes the connection of the caller's transaction; the use cases
decide where transactions begin and end. Row locks (`FOR UPDATE`) serialise the decisions that
must not race: the last places of an activity, a wish's claim, a post's slots, a list item's
claim."""
