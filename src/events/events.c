/* events.c - placeholder, being written */
