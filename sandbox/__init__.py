"""A HighLevel simulator for development, tests and benchmarks (README.md, "The HighLevel sandbox").

It serves HighLevel's OAuth and Social Planner routes over real HTTP from seeded, in-memory state (never
Django's database): `SandboxServer(SandboxConfig(seed=1, ...)).start()` then `.url`, or
`python manage.py runsandbox`. Framework-free; only the management command imports Django. HTTP/1.1 with kept
connections, as HighLevel's API: a client's next request reuses its connection (server.py).

Routes as HighLevel has them: GET/POST /oauth/chooselocation (consent
page), POST /oauth/token, POST /oauth/locationToken, GET /oauth/installedLocations, GET /locations/{locationId}
(name, timezone, address, city, state, country, postalCode, companyId),
GET /social-media-posting/{locationId}/tags, POST .../tags/details, GET .../accounts, POST .../posts/list,
POST /social-media-posting/statistics?locationId=. Posts follow the request's Version: `insights {like, share,
comment}` only under v3, on most published Facebook, Instagram, LinkedIn and YouTube posts, absent for their
first hours and growing with the sandbox clock (posts.py). Every API answer has an `X-Trace-Id` header (statistics
also carry it as `traceId` in the body) and, once the token is known, the five X-RateLimit-* headers.

Tokens: OAuth access `sbxat_…` (86399 s on the sandbox clock), refresh `sbxrt_…` (single use, rotating),
minted location tokens `sbxlt_…`, codes `sbxcode_…` (single use, 10 minutes), Private Integration tokens
`pit-<uuid>` (one per location and per agency, fixed by the seed).

Control API (JSON, no auth; tests and demos only), all under /_sandbox/:
  GET  state                               agencies, locations (id, name, companyId, timezone, address,
                                           installedAt, pit), private_integration_tokens, client_id/secret,
                                           app_id, webhook_public_key_pem, webhook_legacy_public_key_pem, config
  POST reset {"config": {...}}             back to the seeded world (overrides apply to the start config);
                                           clears faults, grants, stats
  GET|POST|DELETE faults, DELETE faults/N  list / add one rule / clear all / remove one. Rule fields:
                                           latency_ms, jitter_ms, error_rate, error_status (500|502|503),
                                           error_burst, rate_limit_storm, timeout_rate, timeout_burst,
                                           hang_seconds (3), malformed_rate, truncated_rate, scoped by
                                           locations [ids] and path (regex); "seed" reseeds the fault RNG
  GET  clock; POST clock {"advance_seconds": N} | {"now": ISO}, and {"frozen": bool} holds time still or not
  GET|POST versions {"refuse_v3": bool}    answer every `Version: v3` call 400 naming the version (a
                                           HighLevel that does not serve v3); cleared by reset
  GET|POST locations/{id}/tags             the full truth / add {"tag": name}
  PATCH|DELETE locations/{id}/tags/{tagId} rename {"tag": name} / soft delete (?hard=1 removes it)
  POST tokens/expire, tokens/revoke        {"token"} | {"location_id"} | {"company_id"} | {"all": true};
                                           revoking also spends refresh tokens (-> invalid_grant)
  POST apps/{locationId|companyId}/install|uninstall
  GET  stats; POST stats/reset             requests (total, by_endpoint), resources (count, max_burst,
                                           rate_limited), rate_limited, token_grants, refresh_token_reuse,
                                           location_tokens_minted, faults_injected
  POST locations/{id}/accounts/{accountId} {"isExpired": bool, "expire_in_days"?: N}
                                           expire an account, or move its expiry (false renews it)
  POST|DELETE locations/{id}/posts/failed  plant a post failed an hour ago {"error"?} / publish the planted ones
  POST locations/{id}/posts                plant posts as given {"posts": [{"id", "platform", "status",
                                           "publishedAt", "tags", "insights": {like, share, comment}}]}
  POST|DELETE locations/{id}/schedule/empty  take the scheduled posts off / put them back
  POST|DELETE locations/{id}/statistics/drops  {"metric", "factor" (0.5), "from" (YYYY-MM-DD, yesterday),
                                           "platform" ("" = all)}: multiply a metric from that day / remove all
  GET  media/{postId}.svg                  a post's thumbnail (posts' `thumbnail` and `media` URLs point here)
  POST webhooks/send                       {"url", "type": INSTALL|UNINSTALL, "company_id", "location_id"?,
                                           "signature": ed25519|rsa|both|none|bad, "timestamp"?, "webhook_id"?}

`client.SandboxControl` wraps all of this for Python callers.
"""
