/* locks.c - placeholder, being written */
