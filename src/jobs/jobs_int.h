/*
 * jobs_int.h - private to src/jobs/: the operations defined in files of
 * this module, listed by ops.c's table.
 */
#ifndef OVMM_JOBS_INT_H
#define OVMM_JOBS_INT_H

#include "jobs/jobs.h"

/* ops.c: object.update, diag.sleep, diag.touch, diag.fail, user.* */
/* op_event.c: "event.acknowledge", args {"id": <event id as number>};
 * undo data {"was": bool} restores the previous acknowledgement. */
extern const struct job_op_type job_op_event_acknowledge;

#endif
