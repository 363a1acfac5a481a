#include "config.h"

#include "err.h"

#define EST_ERR_MSG(name, status, msg) msg,
static const char *const est_err_msgs[] = {EST_ERRORS(EST_ERR_MSG)};
#undef EST_ERR_MSG

#define EST_ERR_STATUS(name, status, msg) status,
static const int est_err_statuses[] = {EST_ERRORS(EST_ERR_STATUS)};
#undef EST_ERR_STATUS

#define EST_ERR_NAME(name, status, msg) #name,
static const char *const est_err_names[] = {EST_ERRORS(EST_ERR_NAME)};
#undef EST_ERR_NAME

static int
est_err_index(int err)
{
	if (err > 0 || -err >= (int)EST_E_COUNT_IDX)
		return EST_E_INTERNAL_IDX;
	return -err;
}

const char *
est_strerror(int err)
{
	return est_err_msgs[est_err_index(err)];
}

int
est_err_http_status(int err)
{
	return est_err_statuses[est_err_index(err)];
}

int
est_err_from_status(int status)
{
	switch (status) {
	case 400:
		return EST_E_INVAL;
	case 401:
		return EST_E_UNAUTH;
	case 403:
		return EST_E_DENIED;
	case 404:
		return EST_E_NOTFOUND;
	case 409:
		return EST_E_CONFLICT;
	case 413:
		return EST_E_TOOBIG;
	case 415:
		return EST_E_MEDIATYPE;
	case 422:
		return EST_E_UNPROCESSABLE;
	case 429:
		return EST_E_TOOMANY;
	case 503:
		return EST_E_DB;
	}
	return status >= 400 && status < 500 ? EST_E_INVAL : EST_E_INTERNAL;
}

const char *
est_err_name(int err)
{
	return est_err_names[est_err_index(err)];
}
