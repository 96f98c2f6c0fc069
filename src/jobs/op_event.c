/* op_event.c - placeholder */
