/*
 * The signer protocol's framing and refusals over a raw socket: what a
 * client that is not lib/sigclient may send, and what the signer must do
 * with it (signer/PROTOCOL sections 2 and 5).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "harness.h"
#include "test_signer.h"
#include "util.h"

int
raw_connect(void)
{
	struct sockaddr_un sun;
	struct timeval tv = {30, 0};
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	/* A broken signer must fail the test, not hang it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
raw_send(int fd, uint32_t len, uint8_t version, uint8_t type, const void *body,
	 size_t bodylen)
{
	uint8_t hdr[6];

	put_be32(hdr, len);
	hdr[4] = version;
	hdr[5] = type;
	if (write_all(fd, hdr, len >= 2 ? 6 : 4 + len) != 0)
		return -1;
	return bodylen ? write_all(fd, body, bodylen) : 0;
}

/* Reads one reply; its type, with a FAIL's code in *code. -1 on EOF. */
int
raw_reply(int fd, uint32_t *code)
{
	uint8_t buf[1024];
	size_t got = 0, need = 4;
	ssize_t n;

	while (got < need) {
		n = read(fd, buf + got, need - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (got == 4) {
			need = 4 + get_be32(buf);
			if (need > sizeof(buf))
				return -1;
		}
	}
	if (buf[5] == SIGNER_FAIL && need == 10)
		*code = get_be32(buf + 6);
	return buf[5];
}

static int
raw_ping(int fd)
{
	uint32_t code = 0;

	if (raw_send(fd, 2, 1, SIGNER_PING, NULL, 0) != 0)
		return -1;
	return raw_reply(fd, &code) == SIGNER_OK ? 0 : -1;
}

void
test_raw_protocol(void)
{
	uint8_t body[64];
	uint32_t code = 0;
	int fd = raw_connect();

	CU_ASSERT_FATAL(fd >= 0);
	/* Unknown type: FAIL(BADTYPE), and the connection goes on. */
	CU_ASSERT(raw_send(fd, 2, 1, 0x7f, NULL, 0) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_BADTYPE);
	CU_ASSERT(raw_ping(fd) == 0);
	/* Another version. */
	CU_ASSERT(raw_send(fd, 2, 2, SIGNER_PING, NULL, 0) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_BADVERSION);
	/* A body too short for its type. */
	memset(body, 0, sizeof(body));
	CU_ASSERT(raw_send(fd, 2 + 5, 1, SIGNER_SIGN, body, 5) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_TRUNCATED);
	/* A string that claims more than the body holds. */
	put_be32(body, 40);
	CU_ASSERT(raw_send(fd, 2 + 20, 1, SIGNER_PUBKEY, body, 20) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_TRUNCATED);
	/* Trailing bytes after the last field. */
	CU_ASSERT(raw_send(fd, 3, 1, SIGNER_PING, body, 1) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_TRAILING);
	put_be32(body, 16);
	memcpy(body + 4, root_id, 16);
	CU_ASSERT(raw_send(fd, 2 + 21, 1, SIGNER_PUBKEY, body, 21) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_TRAILING);
	CU_ASSERT(raw_send(fd, 2 + 20, 1, SIGNER_PUBKEY, body, 20) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_OK);
	CU_ASSERT(raw_ping(fd) == 0);
	/* An oversized length prefix closes the connection... */
	CU_ASSERT(raw_send(fd, 0xffffffffU, 1, SIGNER_PING, NULL, 0) == 0);
	CU_ASSERT(raw_reply(fd, &code) == -1);
	close(fd);
	/* ... and so does an undersized one ... */
	fd = raw_connect();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(raw_send(fd, 1, 1, 0, NULL, 0) == 0);
	CU_ASSERT(raw_reply(fd, &code) == -1);
	close(fd);
	/* ... and the signer still serves new connections. */
	fd = raw_connect();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(raw_ping(fd) == 0);
	close(fd);
}
