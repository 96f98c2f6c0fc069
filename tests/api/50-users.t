# Users: create, conflicts, validation, lock/unlock, passwords, delete.

set ALICE alice${RAND}
set ALICEPW Alice-Passw0rd-${RAND}
set ALICEPW2 Alice-Second-Passw0rd-${RAND}
set ALICEPW3 Alice-Third-Passw0rd-${RAND}

=== count the users before
GET /User
status 200
capture-count N0
expect-header X-Total-Count ${N0}

=== create an operator
POST /User
body {"name": "${ALICE}", "password": "${ALICEPW}", "role": "operator", "description": "made by apitest"}
status 200
capture A id.value
expect name ${ALICE}
expect role operator
expect description made by apitest
expect accountLocked false
expect failedLogins 0
expect lastLoginTime null
expect id.name ${ALICE}
expect id.type ~User
expect id.uri ${BASE}/User/${A}

=== the new user can call the API
GET /Manager
auth ${ALICE}:${ALICEPW}
status 200
expect-count 1

=== the new user is who /session says
GET /session
auth ${ALICE}:${ALICEPW}
status 200
expect user ${ALICE}
expect role operator

=== the new user by id
GET /User/${A}
status 200
expect name ${ALICE}
expect role operator
expect id.value ${A}
expect-absent password
expect-absent passwordHash

=== a user with the same name is 409
POST /User
body {"name": "${ALICE}", "password": "Other-Passw0rd-123", "role": "read-only"}
status 409
expect errorCode ALREADY_EXISTS

=== an unknown role is 400
POST /User
body {"name": "badrole${RAND}", "password": "Badrole-Passw0rd-1", "role": "superuser"}
status 400
expect errorCode INVALID_INPUT

=== a short password is 400
POST /User
body {"name": "shortpw${RAND}", "password": "abc", "role": "read-only"}
status 400
expect errorCode INVALID_INPUT

=== a user without a name is 400
POST /User
body {"password": "Noname-Passw0rd-1", "role": "read-only"}
status 400
expect errorCode INVALID_INPUT

=== the refused short-password user was not created
POST /User
body {"name": "shortpw${RAND}", "password": "Shortpw-Passw0rd-1", "role": "read-only"}
status 200
capture S id.value

=== delete it again
DELETE /User/${S}
status 200
expect $ {}

=== create a read-only user
POST /User
body {"name": "bob${RAND}", "password": "Bob-Passw0rd-${RAND}", "role": "read-only", "description": ""}
status 200
expect role read-only
capture B id.value

=== user ids count the same as the list
GET /User
status 200
capture-count N2
expect-header X-Total-Count ${N2}

=== user ids agree with the list
GET /User/id?limit=1000
status 200
expect-count ${N2}
expect-header X-Total-Count ${N2}

=== lock the operator
PUT /User/${A}/lock
status 200
expect id.value ${A}
expect accountLocked true

=== a locked user is refused with ACCOUNT_LOCKED
GET /Manager
auth ${ALICE}:${ALICEPW}
status 401
expect errorCode ACCOUNT_LOCKED

=== a locked user cannot log in either
POST /login
auth none
body {"username": "${ALICE}", "password": "${ALICEPW}"}
status 401
expect errorCode ACCOUNT_LOCKED

=== unlock the operator
PUT /User/${A}/unlock
status 200
expect accountLocked false

=== an unlocked user works again
GET /Manager
auth ${ALICE}:${ALICEPW}
status 200

=== changing your own password needs currentPassword
PUT /User/${A}/password
auth ${ALICE}:${ALICEPW}
body {"newPassword": "${ALICEPW2}"}
status 400 403

=== changing your own password with a wrong currentPassword is refused
PUT /User/${A}/password
auth ${ALICE}:${ALICEPW}
body {"currentPassword": "Not-The-Passw0rd", "newPassword": "${ALICEPW2}"}
status 400 403

=== the refused changes kept the old password
GET /Manager
auth ${ALICE}:${ALICEPW}
status 200

=== change your own password with currentPassword
PUT /User/${A}/password
auth ${ALICE}:${ALICEPW}
body {"currentPassword": "${ALICEPW}", "newPassword": "${ALICEPW2}"}
status 200
expect id.value ${A}
expect name ${ALICE}

=== the old password no longer works
GET /Manager
auth ${ALICE}:${ALICEPW}
status 401
expect errorCode UNAUTHORIZED

=== the new password works
GET /Manager
auth ${ALICE}:${ALICEPW2}
status 200

=== a short new password is 400
PUT /User/${A}/password
auth ${ALICE}:${ALICEPW2}
body {"currentPassword": "${ALICEPW2}", "newPassword": "abc"}
status 400
expect errorCode INVALID_INPUT

=== an operator may not change another user's password
PUT /User/${B}/password
auth ${ALICE}:${ALICEPW2}
body {"currentPassword": "${ALICEPW2}", "newPassword": "Stolen-Passw0rd-123"}
status 403
expect errorCode FORBIDDEN

=== log in as the operator for a session
POST /login
auth none
body {"username": "${ALICE}", "password": "${ALICEPW2}"}
status 200
expect user ${ALICE}
capture-cookie ASESS OVMSESSION

=== the operator's session works
GET /session
auth none
cookie OVMSESSION=${ASESS}
status 200
expect user ${ALICE}

=== an administrator sets another user's password without currentPassword
PUT /User/${A}/password
body {"newPassword": "${ALICEPW3}"}
status 200
expect id.value ${A}

=== the password change ended the operator's session
GET /session
auth none
cookie OVMSESSION=${ASESS}
status 401

=== the administrator-set password works
GET /Manager
auth ${ALICE}:${ALICEPW3}
status 200

=== the previous password no longer works
GET /Manager
auth ${ALICE}:${ALICEPW2}
status 401
expect errorCode UNAUTHORIZED

=== lock then delete: lock the read-only user
PUT /User/${B}/lock
status 200
expect accountLocked true

=== delete the operator
DELETE /User/${A}
status 200
expect $ {}

=== a deleted user is 404
GET /User/${A}
status 404
expect errorCode NOT_FOUND

=== a deleted user cannot authenticate
GET /Manager
auth ${ALICE}:${ALICEPW3}
status 401
expect errorCode UNAUTHORIZED

=== deleting it again is 404
DELETE /User/${A}
status 404
expect errorCode NOT_FOUND

=== locking a deleted user is 404
PUT /User/${A}/lock
status 404
expect errorCode NOT_FOUND

=== unlocking an unknown user is 404
PUT /User/0004fb0000150000ffffffffffffffff/unlock
status 404
expect errorCode NOT_FOUND

=== setting the password of an unknown user is 404
PUT /User/0004fb0000150000ffffffffffffffff/password
body {"newPassword": "Nobody-Passw0rd-123"}
status 404
expect errorCode NOT_FOUND

=== delete the read-only user
DELETE /User/${B}
status 200
expect $ {}

=== the list is back to its size before
GET /User
status 200
expect-count ${N0}
expect-header X-Total-Count ${N0}
