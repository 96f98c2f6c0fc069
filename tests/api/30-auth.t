# Authentication and the permission table: 401 for credentials, 403 for
# roles. Wrong passwords are spread over users so nobody reaches the
# lock-out (5 consecutive failures).

=== no credentials is 401 with WWW-Authenticate
GET /Manager
auth none
status 401
expect errorCode UNAUTHORIZED
expect-header WWW-Authenticate ~Basic

=== the console's fetch calls get 401 without a Basic challenge (no browser dialog)
GET /session
auth none
header X-Requested-With: ovmm-console
status 401
expect errorCode UNAUTHORIZED
expect-no-header WWW-Authenticate

=== wrong password is 401
GET /Manager
auth bad
status 401
expect errorCode UNAUTHORIZED
expect-header WWW-Authenticate ~Basic

=== unknown user is 401
GET /Manager
auth nosuchuser${RAND}:Whatever-Passw0rd
status 401
expect errorCode UNAUTHORIZED

=== right password after a wrong one works
GET /Manager
status 200
expect-count 1

=== Authorization that is not valid base64 is 401
GET /Manager
auth none
header Authorization: Basic !!!not-base64!!!
status 401
expect errorCode UNAUTHORIZED

=== Authorization with another scheme is 401
GET /Manager
auth none
header Authorization: Bearer abcdef
status 401
expect errorCode UNAUTHORIZED

=== no credentials on a change is 401, not 403
POST /User
auth none
body {"name": "nocred${RAND}", "password": "Nocred-Passw0rd-1", "role": "read-only"}
status 401
expect errorCode UNAUTHORIZED

=== read-only user reads the Manager
GET /Manager
auth ro
status 200
expect-count 1

=== operator reads the Manager
GET /Manager
auth op
status 200
expect-count 1

=== session as read-only via Basic
GET /session
auth ro
status 200
expect user ro
expect role read-only

=== session as operator via Basic
GET /session
auth op
status 200
expect user op
expect role operator

=== session as administrator via Basic
GET /session
status 200
expect user admin
expect role administrator

=== administrator lists user ids
GET /User/id
status 200
capture UID [0].value

=== read-only user may not create users
POST /User
auth ro
body {"name": "byro${RAND}", "password": "Byro-Passw0rd-123", "role": "read-only"}
status 403
expect errorCode FORBIDDEN

=== operator may not create users
POST /User
auth op
body {"name": "byop${RAND}", "password": "Byop-Passw0rd-123", "role": "read-only"}
status 403
expect errorCode FORBIDDEN

=== read-only user may not list users
GET /User
auth ro
status 403
expect errorCode FORBIDDEN

=== operator may not list users
GET /User
auth op
status 403
expect errorCode FORBIDDEN

=== read-only user may not list user ids
GET /User/id
auth ro
status 403
expect errorCode FORBIDDEN

=== operator may not read one user
GET /User/${UID}
auth op
status 403
expect errorCode FORBIDDEN

=== read-only user may not lock a user
PUT /User/${UID}/lock
auth ro
status 403
expect errorCode FORBIDDEN

=== operator may not unlock a user
PUT /User/${UID}/unlock
auth op
status 403
expect errorCode FORBIDDEN

=== read-only user may not delete a user
DELETE /User/${UID}
auth ro
status 403
expect errorCode FORBIDDEN

=== the refused changes changed nothing
GET /User/${UID}
status 200
expect id.value ${UID}
expect accountLocked false
