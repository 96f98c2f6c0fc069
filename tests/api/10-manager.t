# Manager: the one Manager object, its SimpleIds, lookups by id.
# Run by tests/api/run.sh; see tests/api/README.md for the format.

=== list managers as read-only
GET /Manager
auth ro
status 200
expect-count 1
expect [0].managerRunState RUNNING
expect [0].id.type ~Manager
expect-header X-Total-Count 1
capture MGR [0].id.value
capture MGRNAME [0].name

=== the Manager's own SimpleId has an absolute uri to itself
GET /Manager
auth op
status 200
expect [0].id.value ${MGR}
expect [0].id.uri ${BASE}/Manager/${MGR}
expect [0].id.name ${MGRNAME}

=== Manager ids as SimpleIds
GET /Manager/id
auth ro
status 200
expect-count 1
expect [0].value ${MGR}
expect [0].type ~Manager
expect [0].uri ${BASE}/Manager/${MGR}
expect [0].name ${MGRNAME}
expect-header X-Total-Count 1
capture URI [0].uri

=== the SimpleId uri is a URL that can be fetched
GET ${URI}
auth ro
status 200
expect id.value ${MGR}
expect id.uri ${URI}
expect managerRunState RUNNING

=== one Manager by id as administrator
GET /Manager/${MGR}
status 200
expect name ${MGRNAME}
expect id.value ${MGR}
expect managerRunState RUNNING
expect userData []
expect resourceGroupIds []

=== unknown Manager id is 404 with an Error body
GET /Manager/0004fb0000010000ffffffffffffffff
auth ro
status 404
expect errorCode NOT_FOUND
expect-not message ""

=== Manager list paged past the end is empty but counts the total
GET /Manager?limit=1&offset=1
auth ro
status 200
expect-count 0
expect-header X-Total-Count 1

=== Manager list with limit=1 holds the Manager
GET /Manager?limit=1&offset=0
auth ro
status 200
expect-count 1
expect [0].id.value ${MGR}
expect-header X-Total-Count 1
