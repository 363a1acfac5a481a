/*
 * Logging to stderr (foreground) or syslog.  Never pass PINs, passwords,
 * keys or request bodies to these functions.
 */
#ifndef ESTUARY_LOG_H
#define ESTUARY_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, int use_syslog, int level);
/* Parses "err", "warn", "info" or "debug"; -1 when unknown. */
int log_level_parse(const char *s);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
