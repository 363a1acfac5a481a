#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "err.h"
#include "frame.h"
#include "util.h"

int
frame_parse(const uint8_t *p, size_t len, struct frame *f, size_t *consumed)
{
	uint32_t flen;

	if (len < FRAME_HDR_LEN)
		return EST_E_TRUNCATED;
	flen = get_be32(p);
	if (flen > FRAME_MAX)
		return EST_E_TOOBIG;
	if (flen < FRAME_MIN)
		return EST_E_INVAL;
	if (len - FRAME_HDR_LEN < flen)
		return EST_E_TRUNCATED;
	f->version = p[4];
	f->type = p[5];
	f->body = p + 6;
	f->bodylen = flen - FRAME_MIN;
	*consumed = FRAME_HDR_LEN + (size_t)flen;
	return 0;
}

static int
read_full(int fd, uint8_t *p, size_t len, int *got_any)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return EST_E_IO;
		}
		if (n == 0)
			return *got_any ? EST_E_TRUNCATED : EST_E_EOF;
		*got_any = 1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
frame_read(int fd, struct buf *in, struct frame *f)
{
	uint8_t *p;
	uint32_t flen;
	size_t consumed;
	int r, got_any = 0;

	buf_reset(in);
	if ((r = buf_reserve(in, FRAME_HDR_LEN, &p)) != 0)
		return r;
	if ((r = read_full(fd, p, FRAME_HDR_LEN, &got_any)) != 0)
		return r;
	flen = get_be32(p);
	if (flen > FRAME_MAX)
		return EST_E_TOOBIG;
	if (flen < FRAME_MIN)
		return EST_E_INVAL;
	if ((r = buf_reserve(in, flen, &p)) != 0)
		return r;
	if ((r = read_full(fd, p, flen, &got_any)) != 0)
		return r == EST_E_EOF ? EST_E_TRUNCATED : r;
	return frame_parse(buf_ptr(in), buf_len(in), f, &consumed);
}

int
write_all(int fd, const void *p, size_t len)
{
	const uint8_t *d = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, d, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return EST_E_IO;
		}
		d += n;
		len -= (size_t)n;
	}
	return 0;
}

int
frame_write(int fd, uint8_t version, uint8_t type, const struct buf *body)
{
	uint8_t hdr[6];
	size_t blen = body == NULL ? 0 : buf_len(body);
	struct iovec iov[2];
	size_t total, done;
	ssize_t n;

	if (blen > FRAME_MAX - FRAME_MIN)
		return EST_E_TOOBIG;
	put_be32(hdr, (uint32_t)(blen + FRAME_MIN));
	hdr[4] = version;
	hdr[5] = type;
	/* One writev for header and body keeps a reply in one segment. */
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)(blen ? buf_ptr(body) : hdr);
	iov[1].iov_len = blen;
	total = sizeof(hdr) + blen;
	n = writev(fd, iov, blen ? 2 : 1);
	if (n < 0 && errno != EINTR)
		return EST_E_IO;
	done = n < 0 ? 0 : (size_t)n;
	if (done == total)
		return 0;
	if (done < sizeof(hdr)) {
		int r;

		if ((r = write_all(fd, hdr + done, sizeof(hdr) - done)) != 0)
			return r;
		done = sizeof(hdr);
	}
	return write_all(fd, buf_ptr(body) + (done - sizeof(hdr)),
			 total - done);
}
