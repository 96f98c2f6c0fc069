# Object types and methods: unknown types and children, wrong methods.

=== find the Manager id
GET /Manager/id
auth ro
status 200
capture MGR [0].value

=== unknown type is 404
GET /NoSuchType
auth ro
status 404
expect errorCode NOT_FOUND

=== ids of an unknown type is 404
GET /NoSuchType/id
auth ro
status 404
expect errorCode NOT_FOUND

=== object of an unknown type is 404
GET /NoSuchType/0004fb00000100001234567890abcdef
auth ro
status 404
expect errorCode NOT_FOUND

=== unknown child collection of the Manager is 404
GET /Manager/${MGR}/NoSuchChild
auth ro
status 404
expect errorCode NOT_FOUND

=== child collection of an unknown object is 404
GET /NoSuchType/0004fb00000100001234567890abcdef/NoSuchChild
auth ro
status 404
expect errorCode NOT_FOUND

=== DELETE /Manager is 405
DELETE /Manager
status 405
expect errorCode METHOD_NOT_ALLOWED

=== PUT /Manager is 405
PUT /Manager
body {}
status 405
expect errorCode METHOD_NOT_ALLOWED

=== POST /Manager is 405
POST /Manager
body {}
status 405
expect errorCode METHOD_NOT_ALLOWED

=== DELETE /Manager/{id} is 405
DELETE /Manager/${MGR}
status 405
expect errorCode METHOD_NOT_ALLOWED

=== PATCH /User is 405
PATCH /User
body {}
status 405
expect errorCode METHOD_NOT_ALLOWED

=== POST /session is 405
POST /session
body {}
status 405
expect errorCode METHOD_NOT_ALLOWED
