/*
 * journal verify: recomputes the hash chain of the signer's journal
 * (signer/PROTOCOL section 6) and names the first line that was changed,
 * removed or inserted.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "conf.h"
#include "ctl.h"
#include "err.h"
#include "journal.h"

int
cmd_journal_verify(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct conf *conf;
	const char *path;
	char **pos;
	uint64_t nlines = 0, bad = 0;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 1) != 0)
		return 1;
	/* A file named on the command line needs no configuration. */
	if (npos == 1) {
		path = pos[0];
	} else {
		if (ctl_conf(ctl, &conf) != 0)
			return 1;
		path = conf_get(conf, "signer_journal");
	}
	r = journal_verify(path, &nlines, &bad);
	if (r == 0) {
		printf("journal OK: %" PRIu64 " entries\n", nlines);
		return 0;
	}
	if (r == EST_E_INVAL)
		return ctl_fail(ctl, "journal BROKEN at line %" PRIu64, bad);
	return ctl_fail_err(ctl, r, "cannot read %s", path);
}
