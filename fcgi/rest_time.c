/*
 * RFC 3339 date-times of request bodies and query parameters (rest.h,
 * rest_time_parse()): one parser for every endpoint, so that valid_from,
 * expires_at and the audit log's from/to accept the same texts.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "rest.h"

static int
digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

static int
month_days(int y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

int
rest_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	size_t len, i = 19;
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	time_t t;

	if (s == NULL || (len = strlen(s)) < REST_TIME_MIN_LEN ||
	    len > REST_TIME_MAX_LEN || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &se))
		return EST_E_INVAL;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 20)
			return EST_E_INVAL;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
		sign = 0;
	} else if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 &&
		   digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
		   digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
		sign = s[i] == '+' ? 1 : -1;
	} else {
		return EST_E_INVAL;
	}
	/* RFC 3339 allows a leap second: timegm() makes it :00 after :59. */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || se > 60)
		return EST_E_INVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if ((t = timegm(&tm)) == (time_t)-1)
		return EST_E_INVAL;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	if (t < 0)
		return EST_E_INVAL;
	*out = (int64_t)t;
	return 0;
}

int
rest_time_check(const char *s)
{
	int64_t t;

	return rest_time_parse(s, &t);
}
