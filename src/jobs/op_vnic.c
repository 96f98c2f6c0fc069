/*
 * op_vnic.c - (issue 6; docs/NETWORKS.md) work in progress.
 */
#include "jobs/jobs_int.h"
#include "jobs/network.h"

/* The operations of this file (engine.c searches this table). */
const struct job_op_type *const job_ops_vnic[] = {
    NULL,
};
