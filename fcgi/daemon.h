/*
 * The daemon loop shared by estuary-api and estuary-est: options, the
 * configuration, the FastCGI socket, privileges, worker threads and a clean
 * stop on SIGTERM.
 */
#ifndef ESTUARY_DAEMON_H
#define ESTUARY_DAEMON_H

struct app;

/* Runs app until SIGTERM or SIGINT; returns the process exit status. */
int daemon_main(const struct app *app, int argc, char **argv);

#endif
