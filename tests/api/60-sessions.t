# Browser sessions: log-in cookie, CSRF token on changes, /session, log-out.

=== log in as administrator
POST /login
auth none
body {"username": "admin", "password": "${PASS_admin}"}
status 200
expect user admin
expect role administrator
expect-not csrfToken null
expect-not csrfToken ""
capture CSRF csrfToken
capture-cookie SESS OVMSESSION
expect-header Set-Cookie ~OVMSESSION=
expect-header Set-Cookie ~HttpOnly
expect-header Set-Cookie ~Secure
expect-header Set-Cookie ~SameSite=Strict
expect-header Set-Cookie ~Path=/

=== the cookie authenticates a GET without Basic
GET /Manager
auth cookie
status 200
expect-count 1
expect [0].managerRunState RUNNING

=== the cookie session is the administrator with its CSRF token
GET /session
auth cookie
status 200
expect user admin
expect role administrator
expect csrfToken ${CSRF}

=== a Basic-authenticated session has no CSRF token
GET /session
auth ro
status 200
expect user ro
expect csrfToken null

=== a cookie change without the CSRF token is 403
POST /User
auth cookie
body {"name": "csrf${RAND}", "password": "Csrf-Passw0rd-${RAND}", "role": "read-only"}
status 403
expect errorCode CSRF_TOKEN_INVALID

=== a cookie change with a wrong CSRF token is 403
POST /User
auth cookie
header X-CSRF-Token: 0000not-the-token0000
body {"name": "csrf${RAND}", "password": "Csrf-Passw0rd-${RAND}", "role": "read-only"}
status 403
expect errorCode CSRF_TOKEN_INVALID

=== a cookie change with the CSRF token works (and the refused ones made nothing)
POST /User
auth cookie
header X-CSRF-Token: ${CSRF}
body {"name": "csrf${RAND}", "password": "Csrf-Passw0rd-${RAND}", "role": "read-only"}
status 200
expect name Create User: csrf${RAND}
expect user admin
capture J id.value

=== the cookie session reads its job, which made the user
GET /Job/${J}?wait=30
auth cookie
status 200
expect jobRunState SUCCESS
expect resultId.name csrf${RAND}
capture C resultId.value

=== a cookie lock without the CSRF token is 403
PUT /User/${C}/lock
auth cookie
status 403
expect errorCode CSRF_TOKEN_INVALID

=== a cookie delete without the CSRF token is 403
DELETE /User/${C}
auth cookie
status 403
expect errorCode CSRF_TOKEN_INVALID

=== a cookie delete with the CSRF token works
DELETE /User/${C}
auth cookie
header X-CSRF-Token: ${CSRF}
status 200
expect name Delete User: csrf${RAND}
capture J id.value

=== the delete job succeeds
GET /Job/${J}?wait=30
auth cookie
status 200
expect jobRunState SUCCESS

=== the user is gone
GET /User/${C}
auth cookie
status 404
expect errorCode NOT_FOUND

=== log out
POST /logout
auth cookie
status 200
expect $ {}

=== the old cookie no longer authenticates
GET /Manager
auth none
cookie OVMSESSION=${SESS}
status 401
expect errorCode UNAUTHORIZED

=== the old cookie no longer gives a session
GET /session
auth none
cookie OVMSESSION=${SESS}
status 401
expect errorCode UNAUTHORIZED

=== a made-up cookie does not authenticate
GET /Manager
auth none
cookie OVMSESSION=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
status 401
expect errorCode UNAUTHORIZED

=== log in with a wrong password is 401 and sets no cookie
POST /login
auth none
body {"username": "op", "password": "Wrong-Passw0rd-123"}
status 401
expect errorCode UNAUTHORIZED
expect-no-header Set-Cookie

=== log in as an unknown user is 401
POST /login
auth none
body {"username": "nobody${RAND}", "password": "Wrong-Passw0rd-123"}
status 401
expect errorCode UNAUTHORIZED

=== log in without a password is 400
POST /login
auth none
body {"username": "admin"}
status 400
expect errorCode INVALID_INPUT

=== log in as read-only
POST /login
auth none
body {"username": "ro", "password": "${PASS_ro}"}
status 200
expect user ro
expect role read-only
capture RCSRF csrfToken

=== a read-only cookie session with the CSRF token is still refused POST /User
POST /User
auth cookie
header X-CSRF-Token: ${RCSRF}
body {"name": "rocsrf${RAND}", "password": "Rocsrf-Passw0rd-1", "role": "read-only"}
status 403
expect errorCode FORBIDDEN

=== the read-only cookie session reads
GET /Manager/id
auth cookie
status 200
expect-count 1

=== log out the read-only session
POST /logout
auth cookie
header X-CSRF-Token: ${RCSRF}
status 200
expect $ {}

=== after log-out the cookie jar gives no session
GET /session
auth cookie
status 401
expect errorCode UNAUTHORIZED
