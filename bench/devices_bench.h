/*
 * bench_devices (bench/README.md): bench_devices.c fills the registries
 * and measures them; bench_devices_srv.c runs their throwaway MariaDB
 * servers.
 */
#ifndef ESTUARY_BENCH_DEVICES_H
#define ESTUARY_BENCH_DEVICES_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct db;

#define NORGS 4	 /* organizations of the registry's tenant */
#define NTYPES 3 /* device types */

/*
 * One registry: a server of its own (in the bench's directory, under
 * name), its database with the tenant, organizations and types, and the
 * devices it holds.
 */
struct registry {
	const char *name;
	int started; /* the server runs; bdv_cleanup() stops it */
	struct db *db;
	int64_t tenant, org[NORGS], type[NTYPES];
	size_t have; /* devices */
};

/* The two registries: -s devices and -n devices. */
extern struct registry bdv_small, bdv_large;
/* Set by SIGINT and SIGTERM; the loops stop at the next query. */
extern volatile sig_atomic_t bdv_interrupted;

/* CLOCK_MONOTONIC in seconds. */
double bdv_now(void);
/* Prints what failed (and the error r, when not 0) and exits 1. */
void bdv_die(const char *what, int r) __attribute__((noreturn));

/*
 * Makes the bench's directory (keep, or a temporary one), catches SIGINT
 * and SIGTERM, and has bdv_cleanup() run at exit.
 */
void bdv_setup(const char *keep);
/* The bench's directory. */
const char *bdv_dir(void);
/* Starts the server of g (making its data directory the first time). */
void bdv_start_server(struct registry *g);
/*
 * Makes the accounts and database of g, migrates and grants it, and
 * connects g->db as the application.
 */
void bdv_open_registry(struct registry *g);
/* Waits until the server of g has finished its background writes. */
void bdv_settle(const struct registry *g);
/*
 * Reads the whole factory-fingerprint index once, so that its pages are
 * in the buffer pool as on a server that has been answering lookups.
 */
void bdv_warm_lookup(const struct registry *g);
/*
 * CPU time the server of g has used so far, in ns, all its threads
 * (/proc/PID/task/TID/schedstat).
 */
long long bdv_server_cpu_ns(const struct registry *g);
/* Pages the server has read from disk so far (Innodb_buffer_pool_reads). */
long long bdv_pool_reads(const struct registry *g);
/* Stops both servers; removes the directory unless it was kept. */
void bdv_cleanup(void);

#endif
