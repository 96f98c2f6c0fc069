/* db_event.c - placeholder, being written */
