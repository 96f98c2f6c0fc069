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

/* op_user.c: the user changes of the REST API as operations (see there
 * for their arguments and undo data). */
extern const struct job_op_type job_op_user_create;
extern const struct job_op_type job_op_user_delete;
extern const struct job_op_type job_op_user_password;
extern const struct job_op_type job_op_user_disabled;

/* op_server.c: discovery, edit, ownership, delete and power (see there
 * for arguments and undo data). */
extern const struct job_op_type job_op_server_discover;
extern const struct job_op_type job_op_server_update;
extern const struct job_op_type job_op_server_owner;
extern const struct job_op_type job_op_server_delete;
extern const struct job_op_type job_op_server_run_state;
extern const struct job_op_type job_op_server_power;

/* op_pool.c: server pools (see there for arguments and undo data). */
extern const struct job_op_type job_op_pool_create;
extern const struct job_op_type job_op_pool_update;
extern const struct job_op_type job_op_pool_add_server;
extern const struct job_op_type job_op_pool_remove_server;
extern const struct job_op_type job_op_pool_delete;

/* ops.c */
extern const struct job_op_type job_op_object_update;
extern const struct job_op_type job_op_diag_sleep;
extern const struct job_op_type job_op_diag_touch;
extern const struct job_op_type job_op_diag_fail;
/* The table job_op_find() searches, NULL-terminated. */
extern const struct job_op_type *const job_op_table[];
/* Tables of their own, also NULL-terminated, also searched:
 * op_storage.c: file servers, file systems, repositories, storage arrays
 * (fileserver.*, filesystem.*, repo.*, array.*, accessgroup.*,
 * storageelement.*), defined in op_fileserver.c, op_repository.c and
 * op_array.c
 * op_vdisk.c: virtual disks, ISOs, imports, templates, assemblies
 * (vdisk.*, import.*, template.*, assembly.*). */
extern const struct job_op_type *const job_ops_storage[];
extern const struct job_op_type *const job_ops_vdisk[];
/* Networks (docs/NETWORKS.md): op_network.c (network.*), op_netport.c
 * (bonds, ports, VLAN groups: ethernetport.*, vlangroup.*,
 * vlansegment.*, vlaninterface.*), op_vnic.c (vnic.*, macrange.*). */
extern const struct job_op_type *const job_ops_net[];
extern const struct job_op_type *const job_ops_netport[];
extern const struct job_op_type *const job_ops_vnic[];

#endif
