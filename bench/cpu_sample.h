/*
 * CPU time of the processes of a running instance (bench/cpu_sample.c).
 */
#ifndef ESTUARY_BENCH_CPU_SAMPLE_H
#define ESTUARY_BENCH_CPU_SAMPLE_H

/*
 * CPU time in seconds, so far, of the processes of the instance in
 * ESTUARY_VAR (those whose command line names its etc/ or db directory),
 * by program, and of this process.  The web server counted is lighttpd.
 */
enum { CPU_WEB, CPU_EST, CPU_API, CPU_SIGNER, CPU_DB, CPU_SELF, CPU_N };
void cpu_sample(double out[CPU_N]);

#endif
