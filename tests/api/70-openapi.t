# The OpenAPI document: public, version 3, every route of routes.json.

=== openapi.json needs no credentials
GET /openapi.json
auth none
status 200
expect openapi ~3.
expect-exists info.title
expect-exists info.version
expect-routes paths
expect-exists components.schemas.Manager
expect-exists components.schemas.User
expect-exists components.schemas.Error
expect-exists components.schemas.SimpleId

=== openapi.json also works with credentials
GET /openapi.json
auth ro
status 200
expect-routes paths
