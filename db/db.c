/*
 * The connection to MariaDB: connect over the UNIX socket as one account,
 * set up the session, reconnect on db_ping, map server errors to EST_E_*
 * codes, transactions.  Statements and results are in dbstmt.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "conf.h"
#include "db.h"
#include "dbconn.h"
#include "dbpriv.h"
#include "err.h"
#include "log.h"
#include "util.h"

/* A password file holds one line; anything longer is not ours. */
#define DB_PASSWORD_MAX 1024
/* Bounded waits, so a hung server costs a request, not a thread. */
#define DB_CONNECT_TIMEOUT 10
#define DB_IO_TIMEOUT 60

/*
 * Session settings, run after every connect: UTC for every DATETIME,
 * strict mode so a bad value is an error rather than a silent truncation.
 */
static const struct db_stmt_def db_session_stmts[] = {
	{"session_time_zone", "SET time_zone = '+00:00'", 0},
	{"session_sql_mode",
	 "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
	 "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
	 0},
};

static const struct db_stmt_def db_tx_stmts[] = {
	{"tx_begin", "START TRANSACTION", 0},
	{"tx_commit", "COMMIT", 0},
	{"tx_rollback", "ROLLBACK", 0},
};

static pthread_once_t db_lib_once = PTHREAD_ONCE_INIT;
static int db_lib_ok;

static void
db_lib_init(void)
{
	/*
	 * mysql_library_init is not thread-safe; mysql_init would call it
	 * implicitly, possibly from two threads at once.
	 */
	db_lib_ok = mysql_library_init(0, NULL, NULL) == 0;
}

/* Is this client or server error number a lost connection? */
static int
db_errno_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	       e == CR_SERVER_LOST_EXTENDED || e == ER_SERVER_SHUTDOWN ||
	       e == ER_CONNECTION_KILLED;
}

/* The one map from a server error number to an EST_E_* code. */
static int
db_errno_map(unsigned e)
{
	switch (e) {
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		return EST_E_EXISTS;
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return EST_E_CONFLICT;
	case ER_CONSTRAINT_FAILED:
	case ER_BAD_NULL_ERROR:
	case ER_NO_DEFAULT_FOR_FIELD:
	case ER_DATA_TOO_LONG:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case ER_DATA_OUT_OF_RANGE:
	case WARN_DATA_TRUNCATED:
	case ER_TRUNCATED_WRONG_VALUE:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_INVALID_CHARACTER_STRING:
		return EST_E_INVAL;
	case ER_DBACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case ER_PROCACCESS_DENIED_ERROR:
		return EST_E_DENIED;
	default:
		return EST_E_DB;
	}
}

/*
 * Maps the error of the last call on db (or on st when given) and logs it
 * by statement name and number only.  A lost connection is marked so that
 * every statement fails fast until db_ping reconnects; the handles stay
 * valid until then, so callers may still close what they hold.
 */
int
db_fail(struct db *db, MYSQL_STMT *st, const char *name)
{
	unsigned e;
	int r;

	e = st != NULL ? mysql_stmt_errno(st)
		       : (db->my != NULL ? mysql_errno(db->my)
					 : CR_SERVER_GONE_ERROR);
	r = db_errno_map(e);
	if (r == EST_E_EXISTS || r == EST_E_CONFLICT || r == EST_E_INVAL)
		log_debug("db: %s: server error %u", name, e);
	else
		log_err("db: %s: server error %u", name, e);
	if (db_errno_lost(e))
		db->lost = 1;
	return r;
}

/* --- Password files --- */

/*
 * Reads the first line of path into a new string (the caller wipes and
 * frees it).  The file is the secret's only home, so nothing about its
 * content is logged.
 */
static int
db_read_password(const char *path, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, r = EST_E_CONFIG;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_err("db: cannot open password file %s: %s", path,
			strerror(errno));
		goto out;
	}
	if ((buf = malloc(DB_PASSWORD_MAX + 1)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	while (len < DB_PASSWORD_MAX) {
		n = read(fd, buf + len, DB_PASSWORD_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_err("db: cannot read password file %s: %s", path,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	/* Keep the first line; wipe the rest now, freezero_str won't. */
	n = (ssize_t)strcspn(buf, "\r\n");
	explicit_bzero(buf + n, len - (size_t)n);
	if (buf[0] == '\0') {
		log_err("db: password file %s is empty", path);
		goto out;
	}
	*out = buf;
	buf = NULL;
	r = 0;
out:
	if (buf != NULL)
		freezero(buf, DB_PASSWORD_MAX + 1);
	if (fd != -1)
		close(fd);
	return r;
}

/* --- Connection --- */

/* Opens db->my with the stored parameters and sets up the session. */
static int
db_open(struct db *db)
{
	MYSQL *my = NULL;
	char *pw = NULL;
	unsigned int proto = MYSQL_PROTOCOL_SOCKET;
	unsigned int ctimeout = DB_CONNECT_TIMEOUT, iotimeout = DB_IO_TIMEOUT;
	my_bool off = 0;
	size_t i;
	int r;

	if ((r = db_read_password(db->pwfile, &pw)) != 0)
		return r;
	if ((my = mysql_init(NULL)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	/*
	 * UNIX socket only; no automatic reconnect (see db.h); no LOAD DATA
	 * LOCAL, which would let a server read client files.
	 */
	if (mysql_options(my, MYSQL_OPT_PROTOCOL, &proto) != 0 ||
	    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
	    mysql_options(my, MYSQL_OPT_RECONNECT, &off) != 0 ||
	    mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &off) != 0 ||
	    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &ctimeout) != 0 ||
	    (db->io_timeouts &&
	     (mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &iotimeout) != 0 ||
	      mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &iotimeout) != 0))) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if (mysql_real_connect(my, "localhost", db->user, pw, db->dbname, 0,
			       db->socket, CLIENT_FOUND_ROWS) == NULL) {
		log_err("db: cannot connect to %s on %s as %s: error %u",
			db->dbname, db->socket, db->user, mysql_errno(my));
		r = EST_E_DB;
		goto out;
	}
	/*
	 * The client library keeps its own copy of the password, for
	 * automatic reconnection and mysql_change_user, neither of which we
	 * use: wipe it too, so the password lives only in its file.
	 */
	if (my->passwd != NULL)
		explicit_bzero(my->passwd, strlen(my->passwd));
	db->my = my;
	db->lost = 0;
	db->implicit_tx = 0;
	my = NULL;
	for (i = 0; i < sizeof(db_session_stmts) / sizeof(db_session_stmts[0]);
	     i++) {
		if ((r = db_exec_text(db, db_session_stmts[i].name,
				      db_session_stmts[i].sql,
				      strlen(db_session_stmts[i].sql))) != 0) {
			if (db->my != NULL)
				mysql_close(db->my);
			db->my = NULL;
			if (r != EST_E_NOMEM)
				r = EST_E_DB;
			goto out;
		}
	}
	r = 0;
out:
	freezero_str(pw);
	if (my != NULL) {
		if (my->passwd != NULL)
			explicit_bzero(my->passwd, strlen(my->passwd));
		mysql_close(my);
	}
	return r;
}

static int
db_new(const char *socket, const char *dbname, const char *user,
       const char *pwfile, int io_timeouts, struct db **out)
{
	struct db *db = NULL;
	int r;

	if (socket == NULL || dbname == NULL || user == NULL || pwfile == NULL)
		return EST_E_CONFIG;
	if (pthread_once(&db_lib_once, db_lib_init) != 0 || !db_lib_ok) {
		log_err("db: cannot initialise the MariaDB client library");
		return EST_E_INTERNAL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->socket = strdup(socket)) == NULL ||
	    (db->dbname = strdup(dbname)) == NULL ||
	    (db->user = strdup(user)) == NULL ||
	    (db->pwfile = strdup(pwfile)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	db->io_timeouts = io_timeouts;
	if ((r = db_open(db)) != 0)
		goto out;
	*out = db;
	db = NULL;
out:
	db_close(db);
	return r;
}

int
db_connect(const struct conf *c, enum db_role role, struct db **out)
{
	switch (role) {
	case DB_ROLE_APP:
		return db_new(conf_get(c, "db_socket"), conf_get(c, "db_name"),
			      conf_get(c, "db_user"),
			      conf_get(c, "db_password_file"), 1, out);
	case DB_ROLE_ADMIN:
		/* A migration may rebuild a big table: no I/O timeout. */
		return db_new(conf_get(c, "db_socket"), conf_get(c, "db_name"),
			      conf_get(c, "db_admin_user"),
			      conf_get(c, "db_admin_password_file"), 0, out);
	}
	return EST_E_INVAL;
}

int
db_connect_as(const char *socket, const char *dbname, const char *user,
	      const char *password_file, struct db **out)
{
	return db_new(socket, dbname, user, password_file, 1, out);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db_cache_clear(db);
	free(db->cache);
	if (db->my != NULL)
		mysql_close(db->my);
	free(db->socket);
	free(db->dbname);
	free(db->user);
	free(db->pwfile);
	free(db);
}

int
db_ping(struct db *db)
{
	if (db->my != NULL && !db->lost && mysql_ping(db->my) == 0)
		return 0;
	if (db->my != NULL) {
		log_warn("db: connection to %s lost; reconnecting", db->socket);
		db_cache_clear(db);
		mysql_close(db->my);
		db->my = NULL;
	}
	return db_open(db);
}

/* --- Transactions --- */

int
db_begin(struct db *db)
{
	db->audit_head_held = 0;
	return db_exec(db, &db_tx_stmts[0], NULL, 0, NULL, NULL);
}

int
db_begin_implicit(struct db *db)
{
	db->audit_head_held = 0;
	if (db->implicit_tx)
		return 0;
	if (db->my == NULL || db->lost)
		return EST_E_DB;
	if (mysql_autocommit(db->my, 0) != 0)
		return db_fail(db, NULL, "autocommit_off");
	db->implicit_tx = 1;
	return 0;
}

int
db_commit(struct db *db)
{
	db->audit_head_held = 0;
	return db_exec(db, &db_tx_stmts[1], NULL, 0, NULL, NULL);
}

int
db_rollback(struct db *db)
{
	db->audit_head_held = 0;
	return db_exec(db, &db_tx_stmts[2], NULL, 0, NULL, NULL);
}
