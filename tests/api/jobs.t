# Jobs, locks and events: every change answers with a Job; diagnostic jobs
# (sleep, touch, fail) exercise the engine: waiting, transcripts, abort of
# queued and running jobs, locks and lock timeouts, undo on failure,
# parents and children, the priority lane, generic updates with
# generations, users through jobs, events and eventSeverity, CSV export.
#
# tests/api/run.sh starts the daemon with --set job_diagnostics=true
# --set job_lock_timeout=2 --set job_workers=2: the lock-timeout and
# priority-lane blocks below depend on these three values. Blocks that
# need a job to be RUNNING (or a lock to be held) poll with `retry`;
# blocks that need it done use GET /Job/{id}?wait=N. Long sleeps (60 s)
# are always aborted, so a job that ignores its abort shows up as a
# failing ?wait, not as a slow run.

set OBJ diag-${RAND}
set UN jobs${RAND}
set UPW Jobs-Passw0rd-${RAND}
set UPW2 Jobs-Second-Passw0rd-${RAND}
set EXACT Exact \"q\" \\ ü\ttab ${RAND}
set NOJOB 1

# ---- set-up: the Manager, and a user made through a job -------------------

=== the Manager, for its id and name
GET /Manager
status 200
capture MGR [0].id.value
capture MGRNAME [0].name
expect [0].locked false

=== POST /User answers with a Job and its Location
POST /User
body {"name": "${UN}", "password": "${UPW}", "role": "operator", "description": "made by a job"}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect user admin
expect-not createTime null
capture UJ id.value
capture UJURI id.uri
expect id.uri ${BASE}/Job/${UJ}
expect-header Location ${UJURI}

=== the user-create job ends SUCCESS with the user as resultId
GET /Job/${UJ}?wait=30
status 200
expect id.value ${UJ}
expect jobRunState SUCCESS
expect done true
expect resultId.name ${UN}
expect resultId.type ~User
capture U resultId.value

=== the user made by the job exists with its description
GET /User/${U}
status 200
expect name ${UN}
expect description made by a job
expect role operator
expect locked false
expect eventSeverity null
capture UGEN0 generation

=== the user made by the job can call the API
GET /Job?limit=1
auth ${UN}:${UPW}
status 200

=== a second user with the same name is 409 at once
POST /User
body {"name": "${UN}", "password": "Other-Passw0rd-123", "role": "read-only"}
status 409
expect errorCode ALREADY_EXISTS
expect-not message ""

# ---- a diagnostic job: answer, wait, transcript --------------------------

=== POST /Job/diagnostic answers at once with a Job not yet done
POST /Job/diagnostic
body {"name": "diag ${RAND}", "description": "one short sleep", "objects": [{"id": "${OBJ}"}], "operations": [{"op": "sleep", "ms": 300}]}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name diag ${RAND}
expect description one short sleep
expect user admin
expect done false
expect endTime null
expect parentJobId null
expect childJobIds []
expect abortedByUser null
capture J1 id.value
capture J1URI id.uri
expect id.uri ${BASE}/Job/${J1}
expect id.name diag ${RAND}
expect-header Location ${J1URI}

=== GET /Job/{id}?wait=30 answers with the finished job
GET /Job/${J1}?wait=30
auth ro
status 200
expect id.value ${J1}
expect jobRunState SUCCESS
expect jobSummaryState SUCCESS
expect done true
expect summaryDone true
expect error.message null
expect error.type null
expect-not startTime null
expect-not endTime null
expect abortedByUser null
capture CT1 createTime

=== the Location URL of a job serves it
GET ${J1URI}
auth op
status 200
expect id.value ${J1}
expect jobRunState SUCCESS

=== the transcript lists the operation, the lock and the text
GET /Job/${J1}/transcript
auth ro
status 200
expect id.value ${J1}
expect jobRunState SUCCESS
expect-count operations 1
expect operations[0].operation ~sleep
expect operations[0].state DONE
expect-not operations[0].startTime null
expect-not operations[0].endTime null
expect operations[0].undoTime null
expect-count locks 1
expect locks[0].object.value ${OBJ}
expect locks[0].mode EXCLUSIVE
expect locks[0].released true
expect-not transcript ""

=== a second job on the same object, with no operations
POST /Job/diagnostic
body {"name": "diag2 ${RAND}", "objects": [{"id": "${OBJ}", "exclusive": false}], "operations": []}
status 200
capture J2 id.value

=== it ends SUCCESS too
GET /Job/${J2}?wait=30
status 200
expect jobRunState SUCCESS

=== its transcript has no operations and a shared lock
GET /Job/${J2}/transcript
status 200
expect-count operations 0
expect locks[0].mode SHARED

# ---- lists and their filters ---------------------------------------------

=== GET /Job?object= lists the jobs that declared the object, oldest first
GET /Job?object=${OBJ}
auth ro
status 200
expect-count 2
expect [0].id.value ${J1}
expect [1].id.value ${J2}

=== GET /Job/id with the same filter gives their SimpleIds
GET /Job/id?object=${OBJ}
auth ro
status 200
expect-count 2
expect [0].value ${J1}
expect [0].type com.oracle.ovm.mgr.ws.model.Job
expect [0].uri ${BASE}/Job/${J1}
expect [1].value ${J2}

=== ?order=desc lists newest first
GET /Job?object=${OBJ}&order=desc
status 200
expect-count 2
expect [0].id.value ${J2}
expect [1].id.value ${J1}

=== ?limit and ?offset page the list and X-Total-Count counts it
GET /Job?object=${OBJ}&limit=1&offset=1
status 200
expect-count 1
expect [0].id.value ${J2}
expect-header X-Total-Count 2

=== ?state=SUCCESS&user=admin keeps them
GET /Job?object=${OBJ}&state=SUCCESS&user=admin
status 200
expect-count 2

=== ?state=FAILURE leaves them out
GET /Job?object=${OBJ}&state=FAILURE
status 200
expect-count 0

=== ?user= another user leaves them out
GET /Job?object=${OBJ}&user=ro
status 200
expect-count 0

=== ?active=true leaves finished jobs out
GET /Job?object=${OBJ}&active=true
status 200
expect-count 0

=== ?parent=0 keeps top-level jobs
GET /Job?object=${OBJ}&parent=0
status 200
expect-count 2

=== ?since= and ?until= bound the creation time
GET /Job?object=${OBJ}&since=1&until=99999999999999
status 200
expect-count 2

=== ?since= in the future leaves them out
GET /Job?object=${OBJ}&since=99999999999999
status 200
expect-count 0

=== ?until= in the past leaves them out
GET /Job?object=${OBJ}&until=1
status 200
expect-count 0

=== ?format=csv exports the same selection as text/csv
GET /Job?object=${OBJ}&format=csv
auth ro
schema none
status 200
expect-header Content-Type ~text/csv
expect-body id,name,
expect-body jobRunState
expect-body ${J1}
expect-body ${J2}
expect-body SUCCESS

=== a job whose name starts with =
POST /Job/diagnostic
body {"name": "=1+2 ${RAND}", "objects": [{"id": "csv-${RAND}"}], "operations": []}
status 200
expect name =1+2 ${RAND}

=== the CSV export quotes a leading = so spreadsheets do not run it
GET /Job?object=csv-${RAND}&format=csv
schema none
status 200
expect-body '=1+2 ${RAND}

=== a bad ?state= is 400
GET /Job?state=NOT_A_STATE
status 400
expect errorCode INVALID_INPUT

=== a bad ?limit= on jobs is 400
GET /Job?limit=-1
status 400
expect errorCode INVALID_INPUT

=== a bad ?wait= is 400
GET /Job/${J1}?wait=soon
status 400
expect errorCode INVALID_INPUT

# ---- 404s and refused diagnostics ----------------------------------------

=== an unknown job is 404
GET /Job/${NOJOB}
auth ro
status 404
expect errorCode NOT_FOUND
expect-not message ""

=== a job id that is not a number is 404
GET /Job/not-a-job
status 400 404

=== the transcript of an unknown job is 404
GET /Job/${NOJOB}/transcript
status 404
expect errorCode NOT_FOUND

=== aborting an unknown job is 404
PUT /Job/${NOJOB}/abort
status 404
expect errorCode NOT_FOUND

=== aborting a finished job is 409
PUT /Job/${J1}/abort
status 409
expect errorCode INVALID_STATE
expect-not message ""

=== a read-only user may not abort
PUT /Job/${J1}/abort
auth ro
status 403
expect errorCode FORBIDDEN

=== a read-only user may not submit a diagnostic job
POST /Job/diagnostic
auth ro
body {"operations": []}
status 403
expect errorCode FORBIDDEN

=== an operator may not submit a diagnostic job (administrators only)
POST /Job/diagnostic
auth op
body {"operations": []}
status 403
expect errorCode FORBIDDEN

=== an unknown diagnostic operation is 400
POST /Job/diagnostic
body {"objects": [{"id": "${OBJ}"}], "operations": [{"op": "explode"}]}
status 400
expect errorCode INVALID_INPUT
expect message ~explode

=== operations that are not an array are 400
POST /Job/diagnostic
body {"operations": "sleep"}
status 400
expect errorCode INVALID_INPUT

=== a negative sleep is 400
POST /Job/diagnostic
body {"operations": [{"op": "sleep", "ms": -5}]}
status 400
expect errorCode INVALID_INPUT

=== an object without an id is 400
POST /Job/diagnostic
body {"objects": [{"exclusive": true}], "operations": []}
status 400
expect errorCode INVALID_INPUT

=== a bad operation in a child is 400
POST /Job/diagnostic
body {"children": [{"operations": [{"op": "sleep", "ms": 1}]}, {"operations": [{"op": "nope"}]}]}
status 400
expect errorCode INVALID_INPUT

=== a malformed diagnostic body is 400
POST /Job/diagnostic
body {"operations": [
status 400
expect errorCode INVALID_INPUT

=== the refused diagnostics made no job on the object
GET /Job?object=${OBJ}
status 200
expect-count 2

# ---- locks: held, waited for, timed out; abort of a running job ---------

=== a job holds the Manager and sleeps a minute
POST /Job/diagnostic
body {"name": "hold the Manager ${RAND}", "objects": [{"id": "${MGR}"}], "operations": [{"op": "sleep", "ms": 60000}]}
status 200
capture H id.value

=== the holder runs
GET /Job/${H}
retry 10
status 200
expect jobRunState RUNNING
expect jobSummaryState RUNNING
expect done false
expect-not startTime null
expect endTime null

=== the running holder's transcript shows its lock granted, not released
GET /Job/${H}/transcript
retry 5
status 200
expect jobRunState RUNNING
expect operations[0].state RUNNING
expect locks[0].object.value ${MGR}
expect locks[0].granted true
expect locks[0].released false

=== the Manager shows locked: true while the job holds it
GET /Manager/${MGR}
auth ro
retry 5
status 200
expect locked true

=== a job on the held Manager waits in CREATED
POST /Job/diagnostic
body {"name": "wait for the Manager ${RAND}", "objects": [{"id": "${MGR}"}], "operations": [{"op": "sleep", "ms": 1}]}
status 200
expect jobRunState CREATED
expect startTime null
capture W id.value

=== GET /Lock shows the holder and the waiter
GET /Lock
auth ro
retry 5
status 200
expect-count 1
expect [0].object.value ${MGR}
expect [0].object.type ~Manager
expect [0].mode EXCLUSIVE
expect-count [0].holder 1
expect [0].holder[0].value ${H}
expect [0].holder[0].type com.oracle.ovm.mgr.ws.model.Job
expect-count [0].waiters 1
expect [0].waiters[0].job.value ${W}
expect [0].waiters[0].mode EXCLUSIVE

=== ?active=true and ?state=RUNNING find the holder
GET /Job?object=${MGR}&active=true&state=RUNNING
status 200
expect-count 1
expect [0].id.value ${H}

=== the waiter ends FAILURE after job_lock_timeout, naming the holder
GET /Job/${W}?wait=30
status 200
expect jobRunState FAILURE
expect done true
expect error.message ~${H}
expect error.type TIMEOUT

=== the timed-out waiter ran no operation and never held its lock
GET /Job/${W}/transcript
status 200
expect jobRunState FAILURE
expect-not operations[0].state DONE
expect-not operations[0].state RUNNING
expect operations[0].startTime null
expect locks[0].granted false
expect locks[0].released true

=== the failed waiter raised a WARNING on the Manager
GET /Manager/${MGR}
status 200
expect eventSeverity WARNING

=== an operator may not abort an administrator's job
PUT /Job/${H}/abort
auth op
status 403
expect errorCode FORBIDDEN

=== the holder still runs after the refused aborts
GET /Job/${H}
status 200
expect jobRunState RUNNING

=== an administrator aborts the running holder
PUT /Job/${H}/abort
status 200
expect id.value ${H}

=== the aborted holder ends ABORTED at once, its sleep interrupted
GET /Job/${H}?wait=10
status 200
expect jobRunState ABORTED
expect done true
expect abortedByUser admin
expect error.type ABORTED
expect-not endTime null

=== the aborted holder's transcript shows its sleep stopped
GET /Job/${H}/transcript
status 200
expect jobRunState ABORTED
expect-not operations[0].state RUNNING
expect-not operations[0].state PENDING
expect locks[0].released true

=== the Manager is no longer locked
GET /Manager/${MGR}
status 200
expect locked false

=== GET /Lock is empty once the jobs are done
GET /Lock
status 200
expect-count 0

=== aborting the aborted job again is 409
PUT /Job/${H}/abort
status 409
expect errorCode INVALID_STATE

# ---- shared locks ---------------------------------------------------------

=== a first shared holder
POST /Job/diagnostic
body {"objects": [{"id": "shared-${RAND}", "exclusive": false}], "operations": [{"op": "sleep", "ms": 60000}]}
status 200
capture S1 id.value

=== a second shared holder
POST /Job/diagnostic
body {"objects": [{"id": "shared-${RAND}", "exclusive": false}], "operations": [{"op": "sleep", "ms": 60000}]}
status 200
capture S2 id.value

=== an exclusive job on the shared object
POST /Job/diagnostic
body {"objects": [{"id": "shared-${RAND}"}], "operations": []}
status 200
capture SX id.value

=== both shared holders hold the lock together; the exclusive one waits
GET /Lock
retry 5
status 200
expect-count 1
expect [0].object.value shared-${RAND}
expect [0].mode SHARED
expect-count [0].holder 2
expect-count [0].waiters 1
expect [0].waiters[0].job.value ${SX}
expect [0].waiters[0].mode EXCLUSIVE

=== both shared holders run at once
GET /Job/id?object=shared-${RAND}&state=RUNNING
retry 5
status 200
expect-count 2

=== aborting a waiting job answers with it ABORTED
PUT /Job/${SX}/abort
status 200
expect id.value ${SX}
expect jobRunState ABORTED
expect done true
expect abortedByUser admin

=== the aborted waiter never ran
GET /Job/${SX}
status 200
expect jobRunState ABORTED
expect startTime null

=== abort the first shared holder
PUT /Job/${S1}/abort
status 200

=== abort the second shared holder
PUT /Job/${S2}/abort
status 200

=== the first shared holder ends ABORTED
GET /Job/${S1}?wait=10
status 200
expect jobRunState ABORTED

=== the second shared holder ends ABORTED
GET /Job/${S2}?wait=10
status 200
expect jobRunState ABORTED

=== no lock is left
GET /Lock
status 200
expect-count 0

# ---- generic updates ------------------------------------------------------

=== PUT /User/{id} answers with a Job whose resultId is the user
PUT /User/${U}
body {"name": "${UN}", "description": "edited ${RAND}", "generation": ${UGEN0}}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect resultId.value ${U}
capture E1 id.value

=== the update job ends SUCCESS
GET /Job/${E1}?wait=30
status 200
expect jobRunState SUCCESS

=== the update changed the description and the generation
GET /User/${U}
status 200
expect description edited ${RAND}
expect name ${UN}
expect-not generation ${UGEN0}
expect locked false

=== the update raised an INFORMATIONAL event on the user
GET /Event?job=${E1}
auth ro
status 200
expect-count 1
expect [0].severity INFORMATIONAL
expect [0].object.value ${U}
expect [0].jobId.value ${E1}
expect [0].user admin
expect [0].acknowledged false

=== an INFORMATIONAL event leaves eventSeverity null
GET /User/${U}
status 200
expect eventSeverity null

=== userData is applied
PUT /User/${U}
body {"name": "${UN}", "description": "edited ${RAND}", "userData": [{"key": "k1", "value": "v1"}, {"key": "k2", "value": "v2"}]}
status 200
capture E2 id.value

=== the userData update ends SUCCESS
GET /Job/${E2}?wait=30
status 200
expect jobRunState SUCCESS

=== the user has the userData
GET /User/${U}
status 200
expect userData [{"key": "k1", "value": "v1"}, {"key": "k2", "value": "v2"}]
expect description edited ${RAND}

=== userData that is not an array is 400
PUT /User/${U}
body {"name": "${UN}", "userData": "k1=v1"}
status 400
expect errorCode INVALID_INPUT

=== a userData entry without a value is 400
PUT /User/${U}
body {"name": "${UN}", "userData": [{"key": "k1"}]}
status 400
expect errorCode INVALID_INPUT

=== a userData entry with a non-string key is 400
PUT /User/${U}
body {"name": "${UN}", "userData": [{"key": 1, "value": "v"}]}
status 400
expect errorCode INVALID_INPUT

=== a user's name cannot change
PUT /User/${U}
body {"name": "renamed${RAND}", "description": "x"}
status 400
expect errorCode INVALID_INPUT
expect-not message ""

=== a malformed update body is 400
PUT /User/${U}
body {"name": 
status 400
expect errorCode INVALID_INPUT

=== an operator may not update a user
PUT /User/${U}
auth op
body {"name": "${UN}", "description": "by op"}
status 403
expect errorCode FORBIDDEN

=== a read-only user may not update a user
PUT /User/${U}
auth ro
body {"name": "${UN}", "description": "by ro"}
status 403
expect errorCode FORBIDDEN

=== updating an unknown user is 404
PUT /User/0004fb0000150000ffffffffffffffff
body {"name": "nobody", "description": "x"}
status 404
expect errorCode NOT_FOUND

=== updating an object of an unknown type is 404
PUT /NoSuchType/0004fb00000100001234567890abcdef
body {"name": "x"}
status 404
expect errorCode NOT_FOUND

=== the refused updates left the user alone
GET /User/${U}
status 200
expect description edited ${RAND}
expect name ${UN}

=== the Manager's name cannot change
PUT /Manager/${MGR}
body {"name": "renamed${RAND}", "description": "x"}
status 400
expect errorCode INVALID_INPUT

=== an operator may not update the Manager
PUT /Manager/${MGR}
auth op
body {"name": "${MGRNAME}", "description": "by op"}
status 403
expect errorCode FORBIDDEN

=== a read-only user may not update the Manager
PUT /Manager/${MGR}
auth ro
body {"name": "${MGRNAME}", "description": "by ro"}
status 403
expect errorCode FORBIDDEN

=== an administrator updates the Manager's description
PUT /Manager/${MGR}
body {"name": "${MGRNAME}", "description": "manager ${RAND}"}
status 200
expect resultId.value ${MGR}
capture EM id.value

=== the Manager update ends SUCCESS
GET /Job/${EM}?wait=30
status 200
expect jobRunState SUCCESS

=== the Manager has the new description
GET /Manager/${MGR}
status 200
expect description manager ${RAND}
expect name ${MGRNAME}

# ---- a failure undoes what was done, exactly -----------------------------

=== give the user a description with quotes, a backslash, a tab and UTF-8
PUT /User/${U}
body {"name": "${UN}", "description": "${EXACT}"}
status 200
capture E3 id.value

=== that update ends SUCCESS
GET /Job/${E3}?wait=30
status 200
expect jobRunState SUCCESS

=== the exact description, and the generation before the failing job
GET /User/${U}
status 200
expect description "${EXACT}"
capture UGEN3 generation

=== a job that touches the user, sleeps, then fails
POST /Job/diagnostic
body {"name": "touch then fail ${RAND}", "objects": [{"id": "${U}"}, {"id": "fail-${RAND}"}], "operations": [{"op": "touch", "id": "${U}"}, {"op": "sleep", "ms": 50}, {"op": "fail", "message": "injected failure ${RAND}"}]}
status 200
capture F id.value

=== it ends FAILURE with the injected message
GET /Job/${F}?wait=30
status 200
expect jobRunState FAILURE
expect jobSummaryState FAILURE
expect done true
expect error.message ~injected failure ${RAND}
expect-not error.type null

=== its transcript: the touch undone, the failure FAILED
GET /Job/${F}/transcript
status 200
expect jobRunState FAILURE
expect-count operations 3
expect operations[0].operation ~touch
expect operations[0].state UNDONE
expect-not operations[0].undoTime null
expect operations[2].operation ~fail
expect operations[2].state FAILED
expect-count locks 2
expect locks[0].released true
expect locks[1].released true
expect transcript ~injected failure ${RAND}

=== the description and the generation are exactly as before the job
GET /User/${U}
status 200
expect description "${EXACT}"
expect generation ${UGEN3}
expect locked false

=== the failed job raised a WARNING on each object it declared
GET /Event?job=${F}&severity=WARNING
auth ro
status 200
expect-count 2

=== the WARNING on the user
GET /Event?job=${F}&object=${U}&severity=WARNING
auth ro
status 200
expect-count 1
expect [0].severity WARNING
expect [0].object.value ${U}
expect [0].object.type ~User
expect [0].jobId.value ${F}
expect [0].acknowledged false
expect [0].acknowledgedBy null
expect [0].acknowledgedTime null
expect [0].userAcknowledgeable true
capture EV [0].id.value

=== the user's eventSeverity is now WARNING
GET /User/${U}
status 200
expect eventSeverity WARNING

# ---- events ---------------------------------------------------------------

=== GET /Event/{id}
GET /Event/${EV}
auth ro
status 200
expect id.value ${EV}
expect severity WARNING
expect object.value ${U}

=== GET /Event/id with a filter
GET /Event/id?job=${F}&object=${U}&severity=WARNING
auth ro
status 200
expect-count 1
expect [0].value ${EV}

=== GET /Event lists events
GET /Event?limit=50
auth ro
status 200
expect-exists [0].id.value
expect-exists [0].severity

=== ?severity=WARNING keeps WARNING and worse
GET /Event?object=${U}&severity=WARNING
status 200
expect-count 1
expect [0].id.value ${EV}

=== ?severity=ERROR leaves the WARNING out
GET /Event?object=${U}&severity=ERROR
status 200
expect-count 0

=== ?acknowledged=false keeps it
GET /Event?object=${U}&acknowledged=false&severity=WARNING
status 200
expect-count 1

=== ?since= in the future leaves events out
GET /Event?object=${U}&since=99999999999999
status 200
expect-count 0

=== ?until= in the past leaves events out
GET /Event?object=${U}&until=1
status 200
expect-count 0

=== an unknown event is 404
GET /Event/999999999
status 404
expect errorCode NOT_FOUND

=== a read-only user may not acknowledge an event
PUT /Event/${EV}/acknowledge
auth ro
status 403
expect errorCode FORBIDDEN

=== acknowledging an unknown event is 404
PUT /Event/999999999/acknowledge
auth op
status 404
expect errorCode NOT_FOUND

=== an operator acknowledges the event: a Job
PUT /Event/${EV}/acknowledge
auth op
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect user op
capture ACK id.value

=== the acknowledge job ends SUCCESS
GET /Job/${ACK}?wait=30
auth op
status 200
expect jobRunState SUCCESS

=== the event is acknowledged by the operator
GET /Event/${EV}
status 200
expect acknowledged true
expect acknowledgedBy op
expect-not acknowledgedTime null

=== ?acknowledged=true finds it, ?acknowledged=false no longer
GET /Event/id?object=${U}&acknowledged=true&severity=WARNING
status 200
expect-count 1
expect [0].value ${EV}

=== no unacknowledged WARNING is left on the user
GET /Event?object=${U}&acknowledged=false&severity=WARNING
status 200
expect-count 0

=== an acknowledged WARNING no longer colours the user
GET /User/${U}
status 200
expect eventSeverity null

# ---- touch: a real change; abort undoes it -------------------------------

=== a touch that succeeds
POST /Job/diagnostic
body {"objects": [{"id": "${U}"}], "operations": [{"op": "touch", "id": "${U}"}]}
status 200
capture T id.value

=== the touch job ends SUCCESS
GET /Job/${T}?wait=30
status 200
expect jobRunState SUCCESS

=== the touched user says so
GET /User/${U}
status 200
expect description touched by job ${T}
capture UGENT generation

=== a job that touches the user and then sleeps a minute
POST /Job/diagnostic
body {"objects": [{"id": "${U}"}], "operations": [{"op": "touch", "id": "${U}"}, {"op": "sleep", "ms": 60000}]}
status 200
capture AR id.value

=== while it sleeps the user is touched and locked
GET /User/${U}
retry 10
status 200
expect description touched by job ${AR}
expect locked true

=== abort it while it runs
PUT /Job/${AR}/abort
status 200
expect id.value ${AR}

=== it ends ABORTED at once
GET /Job/${AR}?wait=10
status 200
expect jobRunState ABORTED
expect done true
expect abortedByUser admin

=== the abort undid the touch
GET /Job/${AR}/transcript
status 200
expect operations[0].state UNDONE
expect-not operations[0].undoTime null

=== the user is as before the aborted job
GET /User/${U}
status 200
expect description touched by job ${T}
expect generation ${UGENT}
expect locked false

# ---- generations: refused at once, or the later job fails ----------------

=== the user's generation now
GET /User/${U}
status 200
capture UG generation

=== the jobs on the user so far
GET /Job/id?object=${U}&limit=1000
status 200
capture-count NJU

=== an update with a stale generation is 409 at once
PUT /User/${U}
body {"name": "${UN}", "description": "stale ${RAND}", "generation": ${UG}7}
status 409
expect errorCode CONFLICT
expect message ~generation

=== the refused update made no job
GET /Job/id?object=${U}&limit=1000
status 200
expect-count ${NJU}

=== hold the user for a second
POST /Job/diagnostic
body {"objects": [{"id": "${U}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture GH id.value

=== a first update with the current generation is accepted
PUT /User/${U}
body {"name": "${UN}", "description": "first ${RAND}", "generation": ${UG}}
status 200
capture G1 id.value

=== a second update with the same generation is accepted too
PUT /User/${U}
body {"name": "${UN}", "description": "second ${RAND}", "generation": ${UG}}
status 200
capture G2 id.value

=== the first update ends SUCCESS
GET /Job/${G1}?wait=30
status 200
expect jobRunState SUCCESS

=== the second ends FAILURE with CONFLICT about the generation
GET /Job/${G2}?wait=30
status 200
expect jobRunState FAILURE
expect error.type CONFLICT
expect error.message ~generation

=== the user has the first update's description only
GET /User/${U}
status 200
expect description first ${RAND}
expect-not generation ${UG}
expect eventSeverity WARNING

=== the user's WARNINGs, newest first
GET /Event?object=${U}&severity=WARNING
status 200
expect-count 2
expect [0].jobId.value ${G2}
expect [1].jobId.value ${F}

# ---- user changes through jobs; operators abort their own jobs -----------

=== lock the user: a Job
PUT /User/${U}/lock
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect resultId.value ${U}
capture LJ id.value

=== the lock job ends SUCCESS
GET /Job/${LJ}?wait=30
status 200
expect jobRunState SUCCESS

=== the user is locked after the job
GET /User/${U}
status 200
expect accountLocked true

=== the locked user is refused
GET /Manager
auth ${UN}:${UPW}
status 401
expect errorCode ACCOUNT_LOCKED

=== unlock the user: a Job
PUT /User/${U}/unlock
status 200
expect resultId.value ${U}
capture ULJ id.value

=== the unlock job ends SUCCESS
GET /Job/${ULJ}?wait=30
status 200
expect jobRunState SUCCESS

=== the unlocked user works again
GET /Manager
auth ${UN}:${UPW}
status 200

=== hold the user for 1.5 s
POST /Job/diagnostic
body {"objects": [{"id": "${U}"}], "operations": [{"op": "sleep", "ms": 1500}]}
status 200
capture PH id.value

=== the user changes its own password: a Job that waits for the holder
PUT /User/${U}/password
auth ${UN}:${UPW}
body {"currentPassword": "${UPW}", "newPassword": "${UPW2}"}
status 200
expect user ${UN}
expect jobRunState CREATED
capture PJ id.value

=== another operator may not abort it
PUT /Job/${PJ}/abort
auth op
status 403
expect errorCode FORBIDDEN

=== an operator aborts its own waiting job: ABORTED in the answer
PUT /Job/${PJ}/abort
auth ${UN}:${UPW}
status 200
expect id.value ${PJ}
expect jobRunState ABORTED
expect done true
expect abortedByUser ${UN}

=== a second password change, queued the same way
PUT /User/${U}/password
auth ${UN}:${UPW}
body {"currentPassword": "${UPW}", "newPassword": "${UPW2}"}
status 200
capture PJ2 id.value

=== an administrator may abort an operator's job
PUT /Job/${PJ2}/abort
status 200
expect jobRunState ABORTED
expect abortedByUser admin

=== the holder ends SUCCESS
GET /Job/${PH}?wait=30
status 200
expect jobRunState SUCCESS

=== the aborted password changes changed nothing
GET /Manager
auth ${UN}:${UPW}
status 200

=== an administrator sets the user's password: a Job
PUT /User/${U}/password
body {"newPassword": "${UPW2}"}
status 200
expect resultId.value ${U}
capture PJ3 id.value

=== the password job ends SUCCESS
GET /Job/${PJ3}?wait=30
status 200
expect jobRunState SUCCESS

=== the new password works after the job
GET /Manager
auth ${UN}:${UPW2}
status 200

=== the old password no longer does
GET /Manager
auth ${UN}:${UPW}
status 401

# ---- parents and children -------------------------------------------------

=== a parent with three serial children, the second failing
POST /Job/diagnostic
body {"name": "parent ${RAND}", "children": [{"name": "child one", "objects": [{"id": "c1-${RAND}"}], "operations": [{"op": "sleep", "ms": 100}]}, {"name": "child two", "objects": [{"id": "c2-${RAND}"}], "operations": [{"op": "fail", "message": "child two fails"}]}, {"name": "child three", "operations": [{"op": "sleep", "ms": 10}]}]}
status 200
expect-count childJobIds 3
capture P id.value
capture C1 childJobIds[0].value
capture C2 childJobIds[1].value
capture C3 childJobIds[2].value

=== the parent ends FAILURE
GET /Job/${P}?wait=30
status 200
expect jobRunState FAILURE
expect jobSummaryState FAILURE
expect error.type CHILD_FAILED
expect done true
expect summaryDone true
expect-count childJobIds 3

=== the first child succeeded, with the parent as parentJobId
GET /Job/${C1}
status 200
expect jobRunState SUCCESS
expect parentJobId.value ${P}
expect name child one

=== the second child failed with its message
GET /Job/${C2}
status 200
expect jobRunState FAILURE
expect error.message ~child two fails
expect parentJobId.value ${P}

=== the third child was ABORTED after the failure, without running
GET /Job/${C3}
status 200
expect jobRunState ABORTED
expect startTime null

=== ?parent= lists the children in order
GET /Job?parent=${P}
status 200
expect-count 3
expect [0].id.value ${C1}
expect [1].id.value ${C2}
expect [2].id.value ${C3}

=== ?parent=0 leaves children out
GET /Job/id?parent=0&object=c1-${RAND}
status 200
expect-count 0

=== the child is listed under its object
GET /Job/id?object=c1-${RAND}
status 200
expect-count 1
expect [0].value ${C1}

=== hold an object a child needs
POST /Job/diagnostic
body {"objects": [{"id": "q-${RAND}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture QH id.value

=== a parent whose child needs the held object
POST /Job/diagnostic
body {"children": [{"objects": [{"id": "q-${RAND}"}], "operations": []}]}
status 200
capture QP id.value

=== the parent is CHILD_QUEUED while its child waits
GET /Job/${QP}
retry 5
status 200
expect jobRunState CHILD_QUEUED
expect done false

=== the parent ends SUCCESS once the holder is done
GET /Job/${QP}?wait=30
status 200
expect jobRunState SUCCESS

=== a parent with two parallel children
POST /Job/diagnostic
body {"parallel": true, "children": [{"objects": [{"id": "pa-${RAND}"}], "operations": [{"op": "sleep", "ms": 1500}]}, {"objects": [{"id": "pb-${RAND}"}], "operations": [{"op": "sleep", "ms": 1500}]}]}
status 200
capture PP id.value
capture PC1 childJobIds[0].value
capture PC2 childJobIds[1].value

=== the parent is CHILD_RUNNING
GET /Job/${PP}
retry 10
status 200
expect jobRunState CHILD_RUNNING
expect done false

=== both parallel children run at once
GET /Job/id?parent=${PP}&state=RUNNING
retry 5
status 200
expect-count 2

=== the parallel parent ends SUCCESS
GET /Job/${PP}?wait=30
status 200
expect jobRunState SUCCESS

=== a parent whose first child sleeps a minute
POST /Job/diagnostic
body {"children": [{"operations": [{"op": "sleep", "ms": 60000}]}, {"operations": [{"op": "sleep", "ms": 1}]}]}
status 200
capture AP id.value
capture AC1 childJobIds[0].value
capture AC2 childJobIds[1].value

=== its first child runs
GET /Job/${AC1}
retry 10
status 200
expect jobRunState RUNNING

=== abort the parent
PUT /Job/${AP}/abort
status 200
expect id.value ${AP}

=== the parent ends ABORTED
GET /Job/${AP}?wait=10
status 200
expect jobRunState ABORTED
expect done true

=== the running child was aborted
GET /Job/${AC1}?wait=10
status 200
expect jobRunState ABORTED

=== the waiting child was aborted
GET /Job/${AC2}?wait=10
status 200
expect jobRunState ABORTED
expect startTime null

# ---- the priority lane (job_workers=2) -----------------------------------

=== occupy the first ordinary worker
POST /Job/diagnostic
body {"objects": [{"id": "w1-${RAND}"}], "operations": [{"op": "sleep", "ms": 1500}]}
status 200
capture PW1 id.value

=== occupy the second ordinary worker
POST /Job/diagnostic
body {"objects": [{"id": "w2-${RAND}"}], "operations": [{"op": "sleep", "ms": 1500}]}
status 200
capture PW2 id.value

=== both ordinary workers are busy
GET /Job/id?state=RUNNING&since=${CT1}
retry 5
status 200
expect-count 2

=== an ordinary job now waits for a worker
POST /Job/diagnostic
body {"objects": [{"id": "w3-${RAND}"}], "operations": []}
status 200
capture PW3 id.value

=== a priority job
POST /Job/diagnostic
body {"priority": true, "objects": [{"id": "w4-${RAND}"}], "operations": []}
status 200
capture PR id.value

=== the priority job is done while the ordinary workers are busy
GET /Job/${PR}?wait=10
status 200
expect jobRunState SUCCESS

=== the ordinary job is still waiting
GET /Job/${PW3}
status 200
expect jobRunState CREATED

=== the first ordinary worker is still busy
GET /Job/${PW1}
status 200
expect jobRunState RUNNING

=== the ordinary job runs once a worker is free
GET /Job/${PW3}?wait=30
status 200
expect jobRunState SUCCESS

# ---- deleting a user through a job; the event stream route ---------------

=== delete the user: a Job
DELETE /User/${U}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect resultId.value ${U}
capture DJ id.value

=== the delete job ends SUCCESS
GET /Job/${DJ}?wait=30
status 200
expect jobRunState SUCCESS

=== the deleted user is gone after the job
GET /User/${U}
status 404
expect errorCode NOT_FOUND

=== deleting it again is 404 at once
DELETE /User/${U}
status 404
expect errorCode NOT_FOUND

=== the deleted user's jobs remain
GET /Job/${UJ}
status 200
expect jobRunState SUCCESS

=== the event stream needs credentials (tests/api/jobs.sh reads it)
GET /events/stream
auth none
status 401
expect errorCode UNAUTHORIZED

=== no job is left running and no lock held
GET /Job/id?active=true&since=${CT1}
retry 10
status 200
expect-count 0

=== GET /Lock is empty at the end
GET /Lock
status 200
expect-count 0
