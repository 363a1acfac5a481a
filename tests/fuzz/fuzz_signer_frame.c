/*
 * Fuzz target: bytes as they would arrive on a signer connection, fed
 * through the signer's framing and dispatch (conn_feed) with a real
 * signer context on a throwaway SoftHSM token.  Built with replay.c it
 * replays the corpus in make check; with clang -fsanitize=fuzzer it is a
 * libFuzzer driver.
 *
 * Two rewrites keep the fuzzer useful: the 16-octet marks "FUZZ-KEY-CA-000"
 * and "FUZZ-KEY-OTHER0" (with a trailing NUL) become the ids of a CA key
 * (subject "CN=Fuzz CA") and an "other" key made at start-up, so SIGN and
 * PUBKEY reach past the key lookup; and key generation requests for RSA
 * keys are turned into EC P-256 ones, because a 4096-bit key takes
 * seconds and teaches the fuzzer nothing new.  A DESTROYKEY of one of
 * the two start-up keys becomes a PUBKEY of it (the same body), or every
 * later input would only reach NOTFOUND.  Keys the input made are
 * destroyed afterwards so the token does not grow without bound.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "frame.h"
#include "keys.h"
#include "log.h"
#include "profile.h"
#include "sigproto.h"
#include "signer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t mark_ca[16] = "FUZZ-KEY-CA-000";
static const uint8_t mark_other[16] = "FUZZ-KEY-OTHER0";
/* CN=Fuzz CA */
static const uint8_t ca_subject[] = {0x30, 0x12, 0x31, 0x10, 0x30, 0x0e, 0x06,
				     0x03, 0x55, 0x04, 0x03, 0x0c, 0x07, 'F',
				     'u',  'z',	 'z',  ' ',  'C',  'A'};

static char dir[256];
static struct profile *prof;
static struct signer *sg;
static uint8_t ca_id[16], other_id[16];

static void
cleanup(void)
{
	char cmd[300];

	signer_close(sg);
	profile_free(prof);
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: cannot remove %s\n", dir);
	}
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "fuzz_signer_frame: %s\n", what);
	sg = NULL;
	prof = NULL;
	cleanup();
	_exit(1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cmd[1024], path[300], err[256];
	const char *tmp = getenv("TMPDIR");
	const struct key *k;
	CK_SESSION_HANDLE s;
	size_t pinlen = 0;
	char *pin = NULL;
	int st;

	(void)argc;
	(void)argv;
	log_init("fuzz_signer_frame", 0, LOG_LVL_ERR);
	snprintf(dir, sizeof(dir), "%s/estuary-fuzz.XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"%s/tools/softhsm.sh\" && softhsm_init_token "
		 "\"%s/hsm\" fuzz \"%s/pin\" \"%s/sopin\"'",
		 SRCDIR, dir, dir, dir);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("cannot make a SoftHSM token");
	snprintf(path, sizeof(path), "%s/hsm/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(path, sizeof(path), "%s/hsm-profiles/softhsm2.conf", SRCDIR);
	if (profile_load(path, &prof, err, sizeof(err)) != 0)
		die(err);
	snprintf(path, sizeof(path), "%s/pin", dir);
	if (profile_override(prof, "fuzz", path) != 0)
		die("profile override");
	snprintf(path, sizeof(path), "%s/journal", dir);
	if (profile_read_pin(prof, &pin, &pinlen) != 0 ||
	    signer_open(prof, pin, pinlen, path, &sg) != 0)
		die("cannot open the signer");
	if (p11_session_open(sg->p11, &s) != 0 ||
	    keys_generate(sg->keys, s, "fuzz-ca", SIGNER_KEY_EC_P256,
			  SIGNER_USAGE_CA, ca_subject, sizeof(ca_subject),
			  &k) != 0)
		die("cannot make the CA key");
	memcpy(ca_id, k->id, sizeof(ca_id));
	if (keys_generate(sg->keys, s, "fuzz-other", SIGNER_KEY_EC_P256,
			  SIGNER_USAGE_OTHER, NULL, 0, &k) != 0)
		die("cannot make the other key");
	memcpy(other_id, k->id, sizeof(other_id));
	p11_session_close(sg->p11, s);
	/*
	 * Registered only now, after the module registered its own exit
	 * handlers, so that this one runs first and finalizes the module
	 * while it still works.
	 */
	atexit(cleanup);
	return 0;
}

static void
replace_marks(uint8_t *p, size_t len)
{
	uint8_t *m;
	size_t off;

	for (off = 0; off + 16 <= len; off++) {
		m = p + off;
		if (m[0] != 'F')
			continue;
		if (memcmp(m, mark_ca, 16) == 0)
			memcpy(m, ca_id, 16);
		else if (memcmp(m, mark_other, 16) == 0)
			memcpy(m, other_id, 16);
	}
}

/*
 * Turns RSA key generation into EC and the destruction of a start-up key
 * into a read of it; says whether a key may be made.
 */
static int
tame_keygen(uint8_t *p, size_t len)
{
	size_t off = 0, flen, labellen;
	uint8_t *body, *kt;
	int genkey = 0;

	while (len - off >= FRAME_HDR_LEN + FRAME_MIN) {
		flen = ((size_t)p[off] << 24) | ((size_t)p[off + 1] << 16) |
		       ((size_t)p[off + 2] << 8) | p[off + 3];
		if (flen < FRAME_MIN || flen > len - off - FRAME_HDR_LEN)
			break;
		body = p + off + FRAME_HDR_LEN + FRAME_MIN;
		kt = NULL;
		if (body[-1] == SIGNER_GENKEY && flen - FRAME_MIN >= 5) {
			labellen = ((size_t)body[0] << 24) |
				   ((size_t)body[1] << 16) |
				   ((size_t)body[2] << 8) | body[3];
			if (labellen < flen - FRAME_MIN - 4)
				kt = body + 4 + labellen;
			genkey = 1;
		} else if (body[-1] == SIGNER_GEN_WRAPPED &&
			   flen - FRAME_MIN >= 1) {
			kt = body;
		} else if (body[-1] == SIGNER_DESTROYKEY &&
			   flen - FRAME_MIN >= 4 + 16 &&
			   (memcmp(body + 4, ca_id, 16) == 0 ||
			    memcmp(body + 4, other_id, 16) == 0)) {
			body[-1] = SIGNER_PUBKEY;
		}
		if (kt != NULL && *kt >= SIGNER_KEY_RSA_2048 &&
		    *kt <= SIGNER_KEY_RSA_4096)
			*kt = SIGNER_KEY_EC_P256;
		off += FRAME_HDR_LEN + flen;
	}
	return genkey;
}

/* Destroys every key pair but the two made at start-up. */
static void
destroy_new_keys(void)
{
	CK_OBJECT_CLASS classes[2] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};
	CK_ATTRIBUTE tmpl[1];
	CK_OBJECT_HANDLE *objs = NULL;
	CK_SESSION_HANDLE s;
	uint8_t *id = NULL;
	size_t n = 0, i, idlen;
	int c;

	if (p11_session_open(sg->p11, &s) != 0)
		return;
	for (c = 0; c < 2; c++) {
		tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &classes[c],
					 sizeof(classes[c])};
		if (p11_find_all(sg->p11, s, tmpl, 1, &objs, &n) != 0)
			continue;
		for (i = 0; i < n; i++) {
			if (p11_get_attr(sg->p11, s, objs[i], CKA_ID, &id,
					 &idlen) == 0 &&
			    !(idlen == 16 && (memcmp(id, ca_id, 16) == 0 ||
					      memcmp(id, other_id, 16) == 0)))
				sg->p11->f->C_DestroyObject(s, objs[i]);
			free(id);
			id = NULL;
		}
		free(objs);
		objs = NULL;
	}
	p11_session_close(sg->p11, s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn *c = NULL;
	struct buf *out;
	uint8_t *p;
	int genkey;

	if (size > 65536 || (p = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(p, data, size);
	replace_marks(p, size);
	genkey = tame_keygen(p, size);
	if ((out = buf_new(0)) != NULL && conn_new(sg, 0, &c) == 0) {
		/* Whatever the input, the replies must be well framed. */
		(void)conn_feed(c, p, size, out);
		if (buf_len(out) > 0 &&
		    buf_len(out) < FRAME_HDR_LEN + FRAME_MIN)
			abort();
	}
	conn_free(c);
	buf_free(out);
	free(p);
	if (genkey)
		destroy_new_keys();
	return 0;
}
