# Input handling: malformed JSON, body limits, content negotiation, paging.

=== malformed JSON on POST /User is 400
POST /User
body {"name": "broken${RAND}", "password":
status 400
expect errorCode INVALID_INPUT

=== JSON that is not an object on POST /User is 400
POST /User
body ["name", "password"]
status 400
expect errorCode INVALID_INPUT

=== empty body on POST /User is 400
POST /User
status 400
expect errorCode INVALID_INPUT

=== malformed JSON on POST /login is 400
POST /login
auth none
body {"username": "admin", "password
status 400
expect errorCode INVALID_INPUT

=== body over max_body_bytes is 413
POST /User
body-size 2000000
status 413
expect errorCode REQUEST_TOO_LARGE

=== body over max_body_bytes on the public /login is 413
POST /login
auth none
body-size 1100000
status 413
expect errorCode REQUEST_TOO_LARGE

=== a body that is not JSON is refused with 415
POST /User
header Content-Type: text/plain
body {"name": "plain${RAND}", "password": "Plain-Passw0rd-123", "role": "read-only"}
status 415
expect errorCode UNSUPPORTED_MEDIA_TYPE

=== Accept application/xml is 406
GET /Manager
header Accept: application/xml
status 406
expect errorCode NOT_ACCEPTABLE

=== Accept application/json is fine
GET /Manager
header Accept: application/json
status 200
expect-count 1

=== limit that is not a number is 400
GET /Manager?limit=abc
auth ro
status 400
expect errorCode INVALID_INPUT

=== negative limit is 400
GET /Manager?limit=-1
auth ro
status 400
expect errorCode INVALID_INPUT

=== offset that is not a number is 400
GET /Manager?offset=x1
auth ro
status 400
expect errorCode INVALID_INPUT

=== negative offset is 400
GET /Manager/id?offset=-5
auth ro
status 400
expect errorCode INVALID_INPUT

=== all users, for paging
GET /User
status 200
capture-count NUSERS
capture U1 [1].id.value
capture U2 [2].id.value
expect-header X-Total-Count ${NUSERS}

=== users page limit=2 offset=1
GET /User?limit=2&offset=1
status 200
expect-count 2
expect [0].id.value ${U1}
expect [1].id.value ${U2}
expect-header X-Total-Count ${NUSERS}

=== user ids page limit=1 offset=2
GET /User/id?limit=1&offset=2
status 200
expect-count 1
expect [0].value ${U2}
expect-header X-Total-Count ${NUSERS}

=== users page past the end is empty
GET /User?limit=5&offset=${NUSERS}
status 200
expect-count 0
expect-header X-Total-Count ${NUSERS}
