# Users: create, conflicts, validation, lock/unlock, passwords, delete.
#
# Every change answers with a Job (refusals -- 400, 403, 404, 409 -- come
# at once, before any job exists); the blocks after it wait for the job
# with GET /Job/{id}?wait=30 and then check the user. Jobs are waited for
# as the administrator: alice's own password job too, since her old
# password stops working when it succeeds. The last blocks hold a user's
# lock with a diagnostic sleep job (run.sh turns job_diagnostics on) to
# show that a job checks again when it runs.

set ALICE alice${RAND}
set ALICEPW Alice-Passw0rd-${RAND}
set ALICEPW2 Alice-Second-Passw0rd-${RAND}
set ALICEPW3 Alice-Third-Passw0rd-${RAND}

=== count the users before
GET /User
status 200
capture-count N0
expect-header X-Total-Count ${N0}

=== create an operator: the answer is a Job
POST /User
body {"name": "${ALICE}", "password": "${ALICEPW}", "role": "operator", "description": "made by apitest"}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name Create User: ${ALICE}
expect user admin
expect-header Location ~/Job/
capture J id.value

=== the create job succeeds with the user as resultId
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
expect done true
expect error.message null
expect resultId.name ${ALICE}
expect resultId.type ~User
capture A resultId.value

=== the created operator
GET /User/${A}
status 200
expect name ${ALICE}
expect role operator
expect description made by apitest
expect accountLocked false
expect failedLogins 0
expect lastLoginTime null
expect id.value ${A}
expect id.name ${ALICE}
expect id.type ~User
expect id.uri ${BASE}/User/${A}
expect-absent password
expect-absent passwordHash

=== the create job's transcript: one operation, without its arguments
GET /Job/${J}/transcript
status 200
expect-count operations 1
expect operations[0].state DONE
expect-absent operations[0].args
expect-absent operations[0].undo

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

=== a user with the same name is 409 at once
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

=== a user name with a space is 400
POST /User
body {"name": "bad name${RAND}", "password": "Badname-Passw0rd-1", "role": "read-only"}
status 400
expect errorCode INVALID_INPUT

=== the refused short-password user was not created
POST /User
body {"name": "shortpw${RAND}", "password": "Shortpw-Passw0rd-1", "role": "read-only"}
status 200
capture J id.value

=== ... its job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.name shortpw${RAND}
capture S resultId.value

=== delete it again
DELETE /User/${S}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name Delete User: shortpw${RAND}
capture J id.value

=== ... the delete job succeeds with the deleted user as resultId
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${S}

=== ... and it is gone
GET /User/${S}
status 404
expect errorCode NOT_FOUND

=== create a read-only user
POST /User
body {"name": "bob${RAND}", "password": "Bob-Passw0rd-${RAND}", "role": "read-only", "description": ""}
status 200
capture J id.value

=== ... its job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
capture B resultId.value

=== the read-only user
GET /User/${B}
status 200
expect role read-only
expect description ""

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
expect name Lock User: ${ALICE}
expect resultId.value ${A}
capture J id.value

=== ... the lock job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${A}

=== the operator is locked
GET /User/${A}
status 200
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

=== the lock raised an event on the user
GET /Event?object=${A}
status 200
expect [0].type user.locked
expect [0].severity INFORMATIONAL

=== unlock the operator
PUT /User/${A}/unlock
status 200
expect name Unlock User: ${ALICE}
capture J id.value

=== ... the unlock job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS

=== the operator is unlocked
GET /User/${A}
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
expect user ${ALICE}
expect resultId.value ${A}
expect resultId.name ${ALICE}
capture J id.value

=== ... the password job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
expect user ${ALICE}

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
expect resultId.value ${A}
capture J id.value

=== ... the password job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS

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
capture J id.value

=== ... the lock job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS

=== the read-only user is locked
GET /User/${B}
status 200
expect accountLocked true

=== delete the operator
DELETE /User/${A}
status 200
expect name Delete User: ${ALICE}
capture J id.value

=== ... the delete job succeeds
GET /Job/${J}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${A}

=== a deleted user is 404
GET /User/${A}
status 404
expect errorCode NOT_FOUND

=== a deleted user cannot authenticate
GET /Manager
auth ${ALICE}:${ALICEPW3}
status 401
expect errorCode UNAUTHORIZED

=== deleting it again is 404, with no job
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

# ---- a job checks again when it runs ---------------------------------------

=== hold the read-only user's lock with a sleep job
POST /Job/diagnostic
body {"name": "hold bob ${RAND}", "objects": [{"id": "${B}"}], "operations": [{"op": "sleep", "ms": 500}]}
status 200
capture HOLD id.value

=== delete the read-only user: the job waits behind the sleep
DELETE /User/${B}
status 200
capture J1 id.value

=== delete it a second time: still there, so accepted too
DELETE /User/${B}
status 200
capture J2 id.value

=== the first delete succeeds
GET /Job/${J1}?wait=30
status 200
expect jobRunState SUCCESS

=== the second finds the user gone and fails, without a crash
GET /Job/${J2}?wait=30
status 200
expect jobRunState FAILURE
expect done true
expect error.message ~not found

=== the sleep job was not disturbed
GET /Job/${HOLD}?wait=30
status 200
expect jobRunState SUCCESS

=== the read-only user is gone
GET /User/${B}
status 404
expect errorCode NOT_FOUND

=== the list is back to its size before
GET /User
status 200
expect-count ${N0}
expect-header X-Total-Count ${N0}
