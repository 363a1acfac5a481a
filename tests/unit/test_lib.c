/* Unit tests of the internal library: buffers, framing, configuration. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "frame.h"
#include "harness.h"
#include "util.h"

static void
test_buf_roundtrip(void)
{
	struct buf *b = buf_new(0);
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	char *s = NULL;
	uint8_t *blob = NULL;
	size_t len;

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(buf_put_u8(b, 0xab), 0);
	CU_ASSERT_EQUAL(buf_put_u32(b, 0x01020304), 0);
	CU_ASSERT_EQUAL(buf_put_u64(b, 0x1122334455667788ULL), 0);
	CU_ASSERT_EQUAL(buf_put_cstring(b, "hello"), 0);
	CU_ASSERT_EQUAL(buf_put_string(b, "a\0b", 3), 0);
	CU_ASSERT_EQUAL(buf_len(b), 1 + 4 + 8 + 9 + 7);
	/* Big-endian on the wire. */
	CU_ASSERT_EQUAL(buf_ptr(b)[1], 0x01);
	CU_ASSERT_EQUAL(buf_ptr(b)[4], 0x04);

	CU_ASSERT_EQUAL(buf_get_u8(b, &u8), 0);
	CU_ASSERT_EQUAL(u8, 0xab);
	CU_ASSERT_EQUAL(buf_get_u32(b, &u32), 0);
	CU_ASSERT_EQUAL(u32, 0x01020304);
	CU_ASSERT_EQUAL(buf_get_u64(b, &u64), 0);
	CU_ASSERT(u64 == 0x1122334455667788ULL);
	CU_ASSERT_EQUAL(buf_get_cstring(b, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "hello");
	CU_ASSERT_EQUAL(buf_get_string(b, &blob, &len), 0);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT(memcmp(blob, "a\0b", 3) == 0);
	CU_ASSERT_EQUAL(buf_len(b), 0);
	free(s);
	free(blob);
	buf_free(b);
}

static void
test_buf_cstring_refuses_nul(void)
{
	struct buf *b = buf_new(0);
	char *s = NULL;

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(buf_put_string(b, "ab\0cd", 5), 0);
	CU_ASSERT_EQUAL(buf_get_cstring(b, &s), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(s);
	/* A failed get leaves the buffer as it was. */
	CU_ASSERT_EQUAL(buf_len(b), 9);
	buf_free(b);
}

static void
test_buf_truncated(void)
{
	static const uint8_t short_string[] = {0, 0, 0, 10, 'a', 'b'};
	struct buf *b = buf_from(short_string, sizeof(short_string));
	const uint8_t *p;
	uint64_t v;
	size_t len;

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(buf_peek_string(b, &p, &len), EST_E_TRUNCATED);
	CU_ASSERT_EQUAL(buf_len(b), sizeof(short_string));
	CU_ASSERT_EQUAL(buf_get_u64(b, &v), EST_E_TRUNCATED);
	CU_ASSERT_EQUAL(buf_consume(b, 7), EST_E_TRUNCATED);
	CU_ASSERT_EQUAL(buf_consume(b, 6), 0);
	/* A borrowed buffer cannot be written. */
	CU_ASSERT_EQUAL(buf_put_u8(b, 1), EST_E_INVAL);
	buf_free(b);
}

static void
test_buf_max_size(void)
{
	struct buf *b = buf_new(16);
	uint8_t x[17] = {0};

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(buf_put(b, x, 17), EST_E_TOOBIG);
	CU_ASSERT_EQUAL(buf_len(b), 0);
	CU_ASSERT_EQUAL(buf_put(b, x, 16), 0);
	CU_ASSERT_EQUAL(buf_put_u8(b, 1), EST_E_TOOBIG);
	/* Consumed space is reclaimed before the limit is applied. */
	CU_ASSERT_EQUAL(buf_consume(b, 8), 0);
	CU_ASSERT_EQUAL(buf_put(b, x, 8), 0);
	CU_ASSERT_EQUAL(buf_len(b), 16);
	buf_free(b);
	buf_free(NULL);
}

static void
test_frame_parse(void)
{
	uint8_t msg[] = {0, 0, 0, 4, 1, 0x05, 'h', 'i', 0xff};
	struct frame f;
	size_t consumed = 0;

	CU_ASSERT_EQUAL(frame_parse(msg, sizeof(msg), &f, &consumed), 0);
	CU_ASSERT_EQUAL(consumed, 8);
	CU_ASSERT_EQUAL(f.version, 1);
	CU_ASSERT_EQUAL(f.type, 5);
	CU_ASSERT_EQUAL(f.bodylen, 2);
	CU_ASSERT(memcmp(f.body, "hi", 2) == 0);
	/* Every proper prefix is incomplete, not an error. */
	for (size_t i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(frame_parse(msg, i, &f, &consumed),
				EST_E_TRUNCATED);
}

static void
test_frame_length_limits(void)
{
	uint8_t big[6] = {0, 0, 0, 0, 1, 1};
	uint8_t small[6] = {0, 0, 0, 1, 1, 1}; /* below version+type */
	uint8_t max[4];
	struct frame f;
	size_t consumed;

	put_be32(big, FRAME_MAX + 1);
	CU_ASSERT_EQUAL(frame_parse(big, sizeof(big), &f, &consumed),
			EST_E_TOOBIG);
	CU_ASSERT_EQUAL(frame_parse(small, sizeof(small), &f, &consumed),
			EST_E_INVAL);
	/* Exactly the maximum is allowed: only more bytes are missing. */
	put_be32(max, FRAME_MAX);
	CU_ASSERT_EQUAL(frame_parse(max, sizeof(max), &f, &consumed),
			EST_E_TRUNCATED);
}

static void
test_frame_socket_roundtrip(void)
{
	struct buf *body = buf_new(0), *in = buf_new(0);
	struct frame f;
	int sv[2];

	CU_ASSERT_FATAL(body != NULL && in != NULL);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(buf_put_cstring(body, "payload"), 0);
	CU_ASSERT_EQUAL(frame_write(sv[0], 1, 0x80, body), 0);
	CU_ASSERT_EQUAL(frame_write(sv[0], 1, 0x81, NULL), 0);
	CU_ASSERT_EQUAL(frame_read(sv[1], in, &f), 0);
	CU_ASSERT_EQUAL(f.type, 0x80);
	CU_ASSERT_EQUAL(f.bodylen, 11);
	CU_ASSERT_EQUAL(frame_read(sv[1], in, &f), 0);
	CU_ASSERT_EQUAL(f.type, 0x81);
	CU_ASSERT_EQUAL(f.bodylen, 0);
	/* An end of stream between frames is a clean EOF ... */
	close(sv[0]);
	CU_ASSERT_EQUAL(frame_read(sv[1], in, &f), EST_E_EOF);
	close(sv[1]);

	/* ... inside a frame it is a truncation. */
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(write(sv[0], "\0\0\0\x10\x01\x02zz", 8), 8);
	close(sv[0]);
	CU_ASSERT_EQUAL(frame_read(sv[1], in, &f), EST_E_TRUNCATED);
	close(sv[1]);

	/* An oversized prefix is refused before anything is allocated. */
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(write(sv[0], "\x7f\xff\xff\xff", 4), 4);
	CU_ASSERT_EQUAL(frame_read(sv[1], in, &f), EST_E_TOOBIG);
	CU_ASSERT(buf_len(in) <= FRAME_HDR_LEN);
	close(sv[0]);
	close(sv[1]);
	buf_free(body);
	buf_free(in);
}

static char conf_path[] = "/tmp/estuary-test-conf.XXXXXX";

static int
write_conf(const char *text)
{
	int fd;
	ssize_t n;

	strcpy(conf_path + strlen(conf_path) - 6, "XXXXXX");
	if ((fd = mkstemp(conf_path)) < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void
test_conf_load(void)
{
	struct conf *c = NULL;
	char err[256] = "";
	int v = 0;

	CU_ASSERT_FATAL(write_conf("# comment\n\n  signer_socket = /x/s.sock \n"
				   "fcgi_threads=8\nlog_level = debug\n") == 0);
	CU_ASSERT_EQUAL(estuary_conf_load(conf_path, &c, err, sizeof(err)), 0);
	unlink(conf_path);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(conf_get(c, "signer_socket"), "/x/s.sock");
	CU_ASSERT_EQUAL(conf_get_int(c, "fcgi_threads", &v), 0);
	CU_ASSERT_EQUAL(v, 8);
	/* Unset keys give their defaults; unknown keys give NULL. */
	CU_ASSERT_STRING_EQUAL(conf_get(c, "db_name"), "estuary");
	CU_ASSERT_PTR_NULL(conf_get(c, "no_such_key"));
	CU_ASSERT_EQUAL(conf_set(c, "fcgi_threads", "-1"), EST_E_INVAL);
	CU_ASSERT_EQUAL(conf_set(c, "no_such_key", "1"), EST_E_NOTFOUND);
	conf_free(c);
}

static void
test_conf_errors_name_the_line(void)
{
	static const char *const bad[] = {
		"signer_socket = /a\nbogus_key = 1\n",
		"signer_socket = relative/path\n",
		"signer_socket = /a\nsigner_socket = /b\n",
		"just a line\n",
		"fcgi_threads = 12abc\n",
	};
	struct conf *c = NULL;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_FATAL(write_conf(bad[i]) == 0);
		CU_ASSERT_EQUAL(
			estuary_conf_load(conf_path, &c, err, sizeof(err)),
			EST_E_CONFIG);
		unlink(conf_path);
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT(strstr(err, conf_path) != NULL);
		CU_ASSERT(strchr(err, ':') != NULL);
	}
	CU_ASSERT_EQUAL(estuary_conf_load("/nonexistent/estuary.conf", &c, err,
					  sizeof(err)),
			EST_E_CONFIG);
}

static void
test_err_table(void)
{
	CU_ASSERT_EQUAL(est_err_http_status(EST_E_TOOBIG), 413);
	CU_ASSERT_EQUAL(est_err_http_status(EST_E_MEDIATYPE), 415);
	CU_ASSERT_EQUAL(est_err_http_status(EST_E_UNPROCESSABLE), 422);
	CU_ASSERT_EQUAL(est_err_http_status(EST_E_NOTFOUND), 404);
	CU_ASSERT_STRING_EQUAL(est_err_name(EST_E_EXISTS), "EXISTS");
	CU_ASSERT_STRING_EQUAL(est_strerror(EST_E_GONE), "gone");
	/* Out-of-range codes map to an internal error, never off the table. */
	CU_ASSERT_EQUAL(est_err_http_status(-1000), 500);
	CU_ASSERT_EQUAL(est_err_http_status(7), 500);
}

static void
test_hex(void)
{
	uint8_t in[] = {0x00, 0x7f, 0xab, 0xff}, out[4];
	char hex[9];

	hex_encode(in, sizeof(in), hex);
	CU_ASSERT_STRING_EQUAL(hex, "007fabff");
	CU_ASSERT_EQUAL(hex_decode("007FABff", out, 4), 0);
	CU_ASSERT(memcmp(in, out, 4) == 0);
	CU_ASSERT_EQUAL(hex_decode("007fab", out, 4), EST_E_INVAL);
	CU_ASSERT_EQUAL(hex_decode("007fabzz", out, 4), EST_E_INVAL);
	CU_ASSERT_EQUAL(timingsafe_memcmp(in, in, 4), 0);
	CU_ASSERT_NOT_EQUAL(timingsafe_memcmp("ab", "ac", 2), 0);
}

int
test_suites(void)
{
	static CU_TestInfo buf_tests[] = {
		{"values round-trip big-endian", test_buf_roundtrip},
		{"C strings refuse embedded NUL", test_buf_cstring_refuses_nul},
		{"short input is truncated, not read past", test_buf_truncated},
		{"maximum size is enforced", test_buf_max_size},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo frame_tests[] = {
		{"a frame parses and prefixes are incomplete",
		 test_frame_parse},
		{"length prefix limits", test_frame_length_limits},
		{"frames over a socketpair", test_frame_socket_roundtrip},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo conf_tests[] = {
		{"configuration loads with defaults", test_conf_load},
		{"errors name file and line", test_conf_errors_name_the_line},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo misc_tests[] = {
		{"error table maps to HTTP", test_err_table},
		{"hex and constant-time compare", test_hex},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("buf", NULL, NULL, buf_tests)) != 0 ||
	    (r = test_add_suite("frame", NULL, NULL, frame_tests)) != 0 ||
	    (r = test_add_suite("conf", NULL, NULL, conf_tests)) != 0 ||
	    (r = test_add_suite("misc", NULL, NULL, misc_tests)) != 0)
		return r;
	return 0;
}
