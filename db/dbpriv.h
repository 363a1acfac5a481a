/*
 * Internals shared by the files of db/ (and its unit test); not for the
 * rest of Estuary, which uses db.h and the domain headers.
 */
#ifndef ESTUARY_DBPRIV_H
#define ESTUARY_DBPRIV_H

#include <stddef.h>

#include "db.h"

/*
 * Prepares, executes and closes one statement that is not in a statement
 * table (a statement of a migration file): it is never cached, because its
 * text lives only as long as the caller's buffer.  name is for logs.  A
 * result set, if any, is discarded.
 */
int db_exec_text(struct db *db, const char *name, const char *sql, size_t len);

/*
 * Splits the text of a migration file into statements and calls cb for each
 * one, in order, with its text (without the terminator, NUL-terminated) and
 * its ordinal (1-based); a non-zero return from cb stops the split and is
 * returned.  The rules, which keep the split trivial and the files readable
 * by the mariadb client too:
 *   - a statement ends with the terminator (';') at the end of a line,
 *     trailing blanks ignored;
 *   - a line whose first non-blank characters are "--" or "#" is a comment
 *     and is dropped (also inside a statement);
 *   - a line "DELIMITER <token>" between statements makes <token> the
 *     terminator (for a trigger or procedure whose body holds ';'), as in
 *     the mariadb client;
 *   - text after the last terminator that is not blank is an error
 *     (EST_E_INVAL): a statement without its terminator.
 * A string literal that spans lines ending in the terminator is not
 * understood; our migrations have none.
 */
int db_sql_split(const char *text, size_t len,
		 int (*cb)(void *arg, const char *stmt, size_t len, unsigned n),
		 void *arg);

/*
 * A multi-row INSERT for n rows (1 to DB_MULTI_MAX): head, then n copies
 * of row separated by ", ", then tail.  Each statement is made on first
 * use and kept for the life of the process, so that the statement cache
 * (keyed by definition) prepares it once per connection.  A struct
 * db_multi is static, with its first four members set and the rest 0.
 */
struct db_multi {
	const char *name; /* for logs */
	const char *head, *row, *tail;
	unsigned row_params; /* ? in row; head and tail have none */
	struct db_stmt_def defs[DB_MULTI_MAX + 1];
};
const struct db_stmt_def *db_multi_def(struct db_multi *m, size_t n);

/*
 * Row i of r as a result of its own (*out); EST_E_INVAL without r or row
 * i, EST_E_NOMEM.
 */
int db_result_row(const struct db_result *r, size_t i, struct db_result **out);

#endif
