/* db_job.c - placeholder, being written */
