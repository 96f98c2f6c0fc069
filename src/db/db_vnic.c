/*
 * db_vnic.c - VNIC MAC address allocation (docs/NETWORKS.md, "VNICs and
 * MAC ranges"): the lowest address of the MAC ranges no VNIC has.
 *
 * DESIGN: one query, answered from the indexes. The lowest free address
 * of a range is either its start, when no VNIC has it, or the address
 * just after some VNIC's address inside the range, when no VNIC has that
 * one: every gap begins at one of those points. So the candidates are
 * the ranges' starts plus mac_int + 1 of the VNICs inside each range (a
 * range scan of the UNIQUE index on virtual_nics.mac_int, one probe of the
 * same index each), never the 2^24 addresses of a range. Ranges do not
 * overlap (the jobs check), so ordering the candidates by address orders
 * them by range start too. The job calls the txn variant inside its write
 * transaction, where SQLite serializes writers: two jobs can never take
 * the same address, and the UNIQUE constraint would refuse it anyway.
 */
#include <sqlite3.h>

#include "db/db.h"
#include "db/db_int.h"
#include "util/err.h"

#define MAC_FREE_SQL                                                        \
    "SELECT m FROM ("                                                       \
    " SELECT r.start_mac AS m FROM mac_ranges r WHERE NOT EXISTS"           \
    "  (SELECT 1 FROM virtual_nics v WHERE v.mac_int = r.start_mac)"        \
    " UNION ALL"                                                            \
    " SELECT v.mac_int + 1 AS m FROM mac_ranges r JOIN virtual_nics v"      \
    "  ON v.mac_int >= r.start_mac AND v.mac_int < r.end_mac"              \
    "  WHERE NOT EXISTS (SELECT 1 FROM virtual_nics w"                      \
    "   WHERE w.mac_int = v.mac_int + 1)"                                   \
    ") ORDER BY m LIMIT 1"

/* The lowest free address through connection @c (its lock held). */
static int
mac_free_on(struct db_conn *c, uint64_t *mac)
{
    sqlite3_stmt *st = db_stmt(c, MAC_FREE_SQL);
    int rc, ret;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *mac = (uint64_t)sqlite3_column_int64(st, 0);
        ret = 1;
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = db_err_set(c, "cannot look for a free MAC address");
    }
    db_stmt_release(st);
    return ret;
}

int
db_mac_lowest_free(struct db *db, uint64_t *mac)
{
    struct db_conn *c = db_read_begin(db);
    int ret;

    if (!c)
        return -1;
    ret = mac_free_on(c, mac);
    db_read_end(db);
    return ret;
}

int
db_txn_mac_lowest_free(struct db_txn *t, uint64_t *mac)
{
    return mac_free_on(db_txn_conn(t), mac);
}
