/*
 * HSM profile loading and the checks that tie a profile to a token.  The
 * key table below is the whole file format; estuary-hsm-profile(5)
 * documents each key.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "profile.h"
#include "sigproto.h"
#include "util.h"

#define PIN_MAX 256

static const struct {
	const char *name;
	CK_MECHANISM_TYPE mech;
} mechnames[] = {
	{"CKM_EC_KEY_PAIR_GEN", CKM_EC_KEY_PAIR_GEN},
	{"CKM_ECDSA", CKM_ECDSA},
	{"CKM_RSA_PKCS_KEY_PAIR_GEN", CKM_RSA_PKCS_KEY_PAIR_GEN},
	{"CKM_SHA256_RSA_PKCS", CKM_SHA256_RSA_PKCS},
	{"CKM_SHA384_RSA_PKCS", CKM_SHA384_RSA_PKCS},
	{"CKM_SHA512_RSA_PKCS", CKM_SHA512_RSA_PKCS},
	{"CKM_AES_KEY_GEN", CKM_AES_KEY_GEN},
	{"CKM_AES_GCM", CKM_AES_GCM},
};
#define NMECHNAMES (sizeof(mechnames) / sizeof(mechnames[0]))

static const char *const keytypes[] = {
	[SIGNER_KEY_EC_P256] = "ec-p256",   [SIGNER_KEY_EC_P384] = "ec-p384",
	[SIGNER_KEY_RSA_2048] = "rsa-2048", [SIGNER_KEY_RSA_3072] = "rsa-3072",
	[SIGNER_KEY_RSA_4096] = "rsa-4096",
};

static const char *const wrapmodes[] = {
	[WRAP_NONE] = "none",
	[WRAP_GCM] = "aes-gcm",
	[WRAP_GCM_TOKEN_IV] = "aes-gcm-token-iv",
};

const char *
keytype_name(uint8_t keytype)
{
	if (keytype < SIGNER_KEY_MIN || keytype > SIGNER_KEY_MAX)
		return NULL;
	return keytypes[keytype];
}

uint8_t
keytype_parse(const char *s, size_t len)
{
	uint8_t i;

	for (i = SIGNER_KEY_MIN; i <= SIGNER_KEY_MAX; i++)
		if (strlen(keytypes[i]) == len &&
		    strncmp(keytypes[i], s, len) == 0)
			return i;
	return 0;
}

/*
 * Walks a comma-separated list, calling fn on each item (trimmed of
 * blanks); an empty item is an error.
 */
static int
each_item(const char *v, int (*fn)(const char *s, size_t len, void *arg),
	  void *arg)
{
	const char *p = v, *e, *s;
	size_t len;
	int r;

	for (;;) {
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		s = p;
		while (len > 0 && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len == 0)
			return EST_E_INVAL;
		if ((r = fn(s, len, arg)) != 0)
			return r;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static int
item_keytype(const char *s, size_t len, void *arg)
{
	unsigned *mask = arg;
	uint8_t k;

	if ((k = keytype_parse(s, len)) == 0)
		return EST_E_INVAL;
	if (mask != NULL)
		*mask |= 1U << k;
	return 0;
}

static int
valid_key_types(const char *v)
{
	return each_item(v, item_keytype, NULL);
}

static int
mech_lookup(const char *s, size_t len, CK_MECHANISM_TYPE *m)
{
	size_t i;

	for (i = 0; i < NMECHNAMES; i++)
		if (strlen(mechnames[i].name) == len &&
		    strncmp(mechnames[i].name, s, len) == 0) {
			*m = mechnames[i].mech;
			return 0;
		}
	return EST_E_INVAL;
}

static int
item_mech(const char *s, size_t len, void *arg)
{
	struct profile *p = arg;
	CK_MECHANISM_TYPE m;
	int r;

	if ((r = mech_lookup(s, len, &m)) != 0)
		return r;
	if (p != NULL) {
		if (p->nmechs >= NMECHNAMES)
			return EST_E_INVAL; /* a name listed twice */
		p->mechs[p->nmechs++] = m;
	}
	return 0;
}

static int
valid_mechanisms(const char *v)
{
	return each_item(v, item_mech, NULL);
}

static int
valid_wrap(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(wrapmodes) / sizeof(wrapmodes[0]); i++)
		if (strcmp(v, wrapmodes[i]) == 0)
			return 0;
	return EST_E_INVAL;
}

static int
valid_env_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || isdigit((unsigned char)s[0]))
		return EST_E_INVAL;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return EST_E_INVAL;
	return 0;
}

static int
valid_pin_source(const char *v)
{
	if (strncmp(v, "file:", 5) == 0)
		return conf_valid_path(v + 5);
	if (strncmp(v, "env:", 4) == 0)
		return valid_env_name(v + 4, strlen(v + 4));
	return EST_E_INVAL;
}

static int
item_env(const char *s, size_t len, void *arg)
{
	const char *eq = memchr(s, '=', len);

	(void)arg;
	if (eq == NULL || valid_env_name(s, (size_t)(eq - s)) != 0)
		return EST_E_INVAL;
	return 0;
}

static int
valid_module_env(const char *v)
{
	return *v == '\0' ? 0 : each_item(v, item_env, NULL);
}

/* A PKCS#11 token label: 1..32 octets of printable ASCII. */
static int
valid_token_label(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > 32)
		return EST_E_INVAL;
	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)v[i]))
			return EST_E_INVAL;
	return 0;
}

static int
valid_never(const char *v)
{
	return strcmp(v, "never") == 0 ? 0 : EST_E_INVAL;
}

static int
valid_positive(const char *v)
{
	if (conf_valid_uint(v) != 0 || strtol(v, NULL, 10) < 1)
		return EST_E_INVAL;
	return 0;
}

static const struct conf_def profile_defs[] = {
	{"name", NULL, conf_valid_name},
	{"description", "", NULL},
	{"module", NULL, conf_valid_path},
	{"module_env", "", valid_module_env},
	{"token_label", NULL, valid_token_label},
	{"slot", NULL, conf_valid_uint},
	{"pin_source", NULL, valid_pin_source},
	{"key_types", "ec-p256,ec-p384,rsa-2048,rsa-3072,rsa-4096",
	 valid_key_types},
	{"mechanisms",
	 "CKM_EC_KEY_PAIR_GEN,CKM_ECDSA,CKM_RSA_PKCS_KEY_PAIR_GEN,"
	 "CKM_SHA256_RSA_PKCS,CKM_SHA384_RSA_PKCS,CKM_SHA512_RSA_PKCS,"
	 "CKM_AES_KEY_GEN,CKM_AES_GCM",
	 valid_mechanisms},
	{"wrap_mechanism", "aes-gcm", valid_wrap},
	{"max_sessions", "64", valid_positive},
	{"token_retries", "5", conf_valid_uint},
	{"login_retry", "never", valid_never},
};
#define NPROFILE_DEFS (sizeof(profile_defs) / sizeof(profile_defs[0]))

void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->module);
	free(p->token_label);
	free(p->pin_source);
	free(p->module_env);
	free(p->mechs);
	free(p);
}

static int
dup_opt(const struct conf *c, const char *key, char **out)
{
	const char *v = conf_get(c, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	return (*out = strdup(v)) == NULL ? EST_E_NOMEM : 0;
}

int
profile_load(const char *path, struct profile **out, char *err, size_t errlen)
{
	struct profile *p = NULL;
	struct conf *c = NULL;
	const char *v;
	size_t i;
	int r, n;

	if ((r = conf_load(path, profile_defs, NPROFILE_DEFS, &c, err,
			   errlen)) != 0)
		return r;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->mechs = calloc(NMECHNAMES, sizeof(*p->mechs))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	r = EST_E_CONFIG;
	if (conf_get(c, "name") == NULL || conf_get(c, "module") == NULL ||
	    conf_get(c, "pin_source") == NULL) {
		snprintf(err, errlen,
			 "%s: name, module and pin_source are "
			 "required",
			 path);
		goto out;
	}
	if ((conf_get(c, "token_label") == NULL) ==
	    (conf_get(c, "slot") == NULL)) {
		snprintf(err, errlen,
			 "%s: set exactly one of token_label "
			 "and slot",
			 path);
		goto out;
	}
	if ((r = dup_opt(c, "name", &p->name)) != 0 ||
	    (r = dup_opt(c, "module", &p->module)) != 0 ||
	    (r = dup_opt(c, "token_label", &p->token_label)) != 0 ||
	    (r = dup_opt(c, "pin_source", &p->pin_source)) != 0 ||
	    (r = dup_opt(c, "module_env", &p->module_env)) != 0)
		goto out;
	if ((v = conf_get(c, "slot")) != NULL)
		p->slot = (CK_SLOT_ID)strtoul(v, NULL, 10);
	each_item(conf_get(c, "key_types"), item_keytype, &p->key_types);
	if (each_item(conf_get(c, "mechanisms"), item_mech, p) != 0) {
		snprintf(err, errlen, "%s: a mechanism is listed twice", path);
		r = EST_E_CONFIG;
		goto out;
	}
	v = conf_get(c, "wrap_mechanism");
	for (i = 0; i < sizeof(wrapmodes) / sizeof(wrapmodes[0]); i++)
		if (strcmp(v, wrapmodes[i]) == 0)
			p->wrap_mode = (int)i;
	if ((r = conf_get_int(c, "max_sessions", &n)) != 0)
		goto out;
	p->max_sessions = (unsigned)n;
	if ((r = conf_get_int(c, "token_retries", &n)) != 0)
		goto out;
	p->token_retries = (unsigned)n > 20 ? 20 : (unsigned)n;
	*out = p;
	p = NULL;
	r = 0;
out:
	profile_free(p);
	conf_free(c);
	return r;
}

int
profile_override(struct profile *p, const char *token_label,
		 const char *pin_file)
{
	char *s;

	if (token_label != NULL) {
		if (valid_token_label(token_label) != 0)
			return EST_E_CONFIG;
		if ((s = strdup(token_label)) == NULL)
			return EST_E_NOMEM;
		free(p->token_label);
		p->token_label = s;
	}
	if (pin_file != NULL) {
		if (conf_valid_path(pin_file) != 0)
			return EST_E_CONFIG;
		if (asprintf(&s, "file:%s", pin_file) < 0)
			return EST_E_NOMEM;
		free(p->pin_source);
		p->pin_source = s;
	}
	return 0;
}

static int
item_setenv(const char *s, size_t len, void *arg)
{
	char name[128], value[1024];
	const char *eq = memchr(s, '=', len);
	size_t nlen, vlen;

	(void)arg;
	if (eq == NULL)
		return EST_E_INVAL;
	nlen = (size_t)(eq - s);
	vlen = len - nlen - 1;
	if (nlen >= sizeof(name) || vlen >= sizeof(value))
		return EST_E_TOOBIG;
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	memcpy(value, eq + 1, vlen);
	value[vlen] = '\0';
	/* What the operator put in the environment wins over the profile. */
	if (setenv(name, value, 0) != 0)
		return EST_E_NOMEM;
	return 0;
}

int
profile_apply_env(const struct profile *p)
{
	if (p->module_env == NULL || *p->module_env == '\0')
		return 0;
	return each_item(p->module_env, item_setenv, NULL);
}

static int
read_pin_file(const char *path, char **pin, size_t *pinlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		log_err("cannot open PIN file %s: %s", path, strerror(errno));
		return EST_E_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_err("PIN file %s is not a regular file", path);
		r = EST_E_CONFIG;
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		log_err("PIN file %s is readable by everyone; chmod o-r it",
			path);
		r = EST_E_CONFIG;
		goto out;
	}
	if ((buf = malloc(PIN_MAX + 2)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	while (len < PIN_MAX + 2) {
		n = read(fd, buf + len, PIN_MAX + 2 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("cannot read PIN file %s: %s", path,
				strerror(errno));
			r = EST_E_CONFIG;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0 || len > PIN_MAX || memchr(buf, '\0', len) != NULL ||
	    memchr(buf, '\n', len) != NULL) {
		log_err("PIN file %s must hold one line of 1 to %d bytes", path,
			PIN_MAX);
		r = EST_E_CONFIG;
		goto out;
	}
	buf[len] = '\0';
	*pin = buf;
	*pinlen = len;
	buf = NULL;
	r = 0;
out:
	freezero(buf, PIN_MAX + 2);
	close(fd);
	return r;
}

int
profile_read_pin(const struct profile *p, char **pin, size_t *pinlen)
{
	const char *name;
	char *v, *copy;
	size_t len;

	if (strncmp(p->pin_source, "file:", 5) == 0)
		return read_pin_file(p->pin_source + 5, pin, pinlen);
	name = p->pin_source + 4;
	if ((v = getenv(name)) == NULL || (len = strlen(v)) == 0 ||
	    len > PIN_MAX) {
		log_err("PIN variable %s is not set or not 1 to %d bytes", name,
			PIN_MAX);
		return EST_E_CONFIG;
	}
	if ((copy = strdup(v)) == NULL)
		return EST_E_NOMEM;
	/* Leave no copy behind for /proc/PID/environ or a core dump. */
	explicit_bzero(v, len);
	unsetenv(name);
	*pin = copy;
	*pinlen = len;
	return 0;
}

static const char *
mech_name(CK_MECHANISM_TYPE m)
{
	size_t i;

	for (i = 0; i < NMECHNAMES; i++)
		if (mechnames[i].mech == m)
			return mechnames[i].name;
	return "?";
}

static int
listed(const struct profile *p, CK_MECHANISM_TYPE m)
{
	size_t i;

	for (i = 0; i < p->nmechs; i++)
		if (p->mechs[i] == m)
			return 1;
	return 0;
}

int
profile_check_token(const struct profile *p, struct p11 *p11)
{
	static const CK_MECHANISM_TYPE ec[] = {CKM_EC_KEY_PAIR_GEN, CKM_ECDSA};
	static const CK_MECHANISM_TYPE rsa[] = {
		CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_RSA_PKCS,
		CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS};
	static const CK_MECHANISM_TYPE wrap[] = {CKM_AES_KEY_GEN, CKM_AES_GCM};
	unsigned ecmask =
		(1U << SIGNER_KEY_EC_P256) | (1U << SIGNER_KEY_EC_P384);
	size_t i;
	int r = 0;

	for (i = 0; i < p->nmechs; i++)
		if (p11_has_mechanism(p11, p->mechs[i]) != 0) {
			log_err("profile %s lists %s but token \"%s\" does "
				"not offer it",
				p->name, mech_name(p->mechs[i]), p11->label);
			r = EST_E_CONFIG;
		}
#define NEED(list, cond)                                                       \
	for (i = 0; (cond) && i < sizeof(list) / sizeof(list[0]); i++)         \
		if (!listed(p, list[i])) {                                     \
			log_err("profile %s: key_types or wrap_mechanism "     \
				"need %s, which mechanisms does not list",     \
				p->name, mech_name(list[i]));                  \
			r = EST_E_CONFIG;                                      \
		}
	NEED(ec, (p->key_types & ecmask) != 0)
	NEED(rsa, (p->key_types & ~ecmask) != 0)
	NEED(wrap, p->wrap_mode != WRAP_NONE)
#undef NEED
	return r;
}
