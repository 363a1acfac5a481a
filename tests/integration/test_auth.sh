#!/bin/bash
#
# Authentication of the REST API over HTTPS (fcgi/auth.h): login and the
# session cookie's attributes, /auth/me, the one 401 for every failed
# login, CSRF on cookie requests, logout, idle and absolute timeouts,
# tokens stored only as digests, throttling per account and per address
# with Retry-After, API applications with HTTP Basic and with a TLS client
# certificate, strong authentication of users, and the audit rows of all
# of it.  Runs against the instance described by the ESTUARY_* variables
# (see lib.sh); names carry a per-run suffix so that it can run again.
#
# What lighttpd cannot be made to send from here (a client certificate of
# our own making: lighttpd passes only certificates that chain to the
# instance's CAs, whose keys are in the token) goes straight to
# estuary-api's FastCGI socket with cgi-fcgi, as a web server would pass
# it.  Timeouts are tested by moving a session's times back in the
# database rather than by waiting.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

TENANT="Auth Tenant $RUN"
PW="pw-$RUN-Secret"
CLIENT_ADDR=127.0.0.1

# Failed logins from this script's address count against the address for
# 15 minutes; forget them, so that the script can run again and later
# scripts can log in.
forget_attempts() {
	db_sql "DELETE FROM login_attempts WHERE source_addr = '$CLIENT_ADDR'" \
	    >/dev/null 2>&1
}
at_exit forget_attempts
forget_attempts

# logout [curl options...]: POST /auth/logout (no body, as a browser's
# fetch() sends it: Content-Length 0); prints the status.
logout() {
	http POST /api/v1/auth/logout -H 'Content-Length: 0' "$@"
}

# The session token of the last response's Set-Cookie, "" if none.
cookie_token() {
	header Set-Cookie | sed -n 's/^estuary_session=\([^;]*\);.*/\1/p'
}

sha256hex() {
	printf '%s' "$1" | sha256sum | cut -c1-64 | tr 'a-f' 'A-F'
}

# fcgi METHOD PATH BODY [VAR=value...]: one request straight to the FastCGI
# socket of estuary-api with the variables a web server would set; prints
# the status, leaves the body in $T_TMP/fbody and the headers in
# $T_TMP/fheaders.
fcgi() {
	local method=$1 path=$2 body=$3 out=$T_TMP/fcgi.out

	shift 3
	printf '%s' "$body" | env -i LC_ALL=C REQUEST_METHOD="$method" \
	    REQUEST_URI="$path" HTTP_HOST=localhost HTTPS=on \
	    REMOTE_ADDR=192.0.2.10 CONTENT_LENGTH=${#body} \
	    CONTENT_TYPE=application/json "$@" \
	    cgi-fcgi -bind -connect "$(conf api_socket)" >"$out" 2>/dev/null
	tr -d '\r' <"$out" | sed '/^$/q' >"$T_TMP/fheaders"
	tr -d '\r' <"$out" | sed '1,/^$/d' >"$T_TMP/fbody"
	sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T_TMP/fheaders"
}

fheader() {
	awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" -F': ' '
		tolower($1) == n { print $2; exit }' "$T_TMP/fheaders"
}

# cert NAME: a self-signed client certificate and key in $T_TMP/NAME.pem
# and NAME.key; prints its SHA-256 fingerprint in upper-case hex.
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -subj "/CN=$1-$RUN" -days 2 -keyout "$T_TMP/$1.key" \
	    -out "$T_TMP/$1.pem" >/dev/null 2>&1
	openssl x509 -in "$T_TMP/$1.pem" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g'
}

# audit_count ACTOR ACTION OUTCOME REASON-PATTERN: audit rows that match.
audit_count() {
	db_sql "SELECT COUNT(*) FROM audit_log WHERE actor_name = '$1'
	    AND action = '$2' AND outcome = '$3'
	    AND COALESCE(reason, '') LIKE '$4'"
}

# --- users and an application for this run ------------------------------------
printf '%s\n' "$PW" >"$T_TMP/pw"
check "tenant for the run" ctl tenant add "$TENANT"
for u in alice thr clr strong idle gone; do
	check "user $u-$RUN" ctl user add --username "$u-$RUN" \
	    --role tenant_operator --tenant "$TENANT" --password-file "$T_TMP/pw"
done
app=$(app_add "$TENANT" tenant_operator "App $RUN")
check_match "app add prints AppID and AppKey" \
    '^[0-9a-f]{32}	[A-Za-z0-9_-]{43}$' "$app"
APP_ID=${app%%	*}
APP_KEY=${app#*	}
check_fails "app add: an unknown role is refused" ctl app add \
    --tenant "$TENANT" --role admin --name "Bad $RUN"
check_fails "app add: org_operator needs --org" ctl app add \
    --tenant "$TENANT" --role org_operator --name "Bad $RUN"
check_eq "app add: only the key's hash is stored" 0 \
    "$(db_sql "SELECT COUNT(*) FROM api_applications
	WHERE key_hash LIKE '%$APP_KEY%'")"
check_eq "app add: audited" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity =
	'api_application' AND action = 'create' AND entity_name = 'App $RUN'")"

# --- login -------------------------------------------------------------------------
code=$(login "alice-$RUN" "$PW")
check_eq "login: 200" 200 "$code"
TOK=$(cookie_token)
CSRF=$(jbody .csrf_token)
check_match "login: session token of 43 base64url characters" \
    '^[A-Za-z0-9_-]{43}$' "$TOK"
check_match "login: CSRF token of 43 base64url characters" \
    '^[A-Za-z0-9_-]{43}$' "$CSRF"
check_eq "login: cookie attributes" \
    "estuary_session=$TOK; Path=/; Secure; HttpOnly; SameSite=Strict" \
    "$(header Set-Cookie)"
check_eq "login: the user in the body" "alice-$RUN" "$(jbody .user.name)"
check_eq "login: the user's role" tenant_operator "$(jbody .user.role)"
check_eq "login: not cacheable" no-store "$(header Cache-Control)"

code=$(http GET /api/v1/auth/me -b "estuary_session=$TOK")
check_eq "me with the cookie: 200" 200 "$code"
check_eq "me: a user" user "$(jbody .type)"
check_eq "me: by session" session "$(jbody .auth_method)"
check_eq "me: the name" "alice-$RUN" "$(jbody .name)"
check_match "me: the tenant" '^[1-9][0-9]*$' "$(jbody .tenant_id)"

code=$(http GET /api/v1/auth/me)
check_eq "me without credentials: 401" 401 "$code"
check_eq "me without credentials: code UNAUTH" UNAUTH "$(jbody .error.code)"
check_eq "me without credentials: no Basic challenge" "" \
    "$(header WWW-Authenticate)"
check_eq "me with a made-up token: 401" 401 "$(http GET /api/v1/auth/me \
    -b "estuary_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"

# --- every failed login looks the same ----------------------------------------------
code=$(login "alice-$RUN" "wrong-$RUN")
check_eq "wrong password: 401" 401 "$code"
check_eq "wrong password: code UNAUTH" UNAUTH "$(jbody .error.code)"
check_eq "wrong password: no cookie" "" "$(header Set-Cookie)"
check_eq "wrong password: no Basic challenge" "" "$(header WWW-Authenticate)"
cp "$T_TMP/body" "$T_TMP/wrongpw.json"
code=$(login "nobody-$RUN" "$PW")
check_eq "unknown user: 401" 401 "$code"
check "unknown user: the same body as a wrong password" \
    cmp "$T_TMP/wrongpw.json" "$T_TMP/body"

# --- bad bodies ---------------------------------------------------------------------
check_eq "login as text/plain: 415" 415 "$(http POST /api/v1/auth/login \
    -H 'Content-Type: text/plain' --data-binary '{}')"
check_eq "login with malformed JSON: 400" 400 "$(http POST \
    /api/v1/auth/login -H 'Content-Type: application/json' \
    --data-binary '{"username": "a",')"
check_eq "login without a password: 422" 422 "$(http POST \
    /api/v1/auth/login -H 'Content-Type: application/json' \
    --data-binary '{"username": "a"}')"
check_eq "login without a password: the field" password \
    "$(jbody .error.field)"
check_eq "login with an unknown field: 422" 422 "$(http POST \
    /api/v1/auth/login -H 'Content-Type: application/json' \
    --data-binary '{"username": "a", "password": "b", "admin": true}')"

# --- tokens are stored as digests only ------------------------------------------------
check_eq "session row holds the token's SHA-256" 1 \
    "$(db_sql "SELECT COUNT(*) FROM sessions
	WHERE HEX(token_hash) = '$(sha256hex "$TOK")'
	AND HEX(csrf_hash) = '$(sha256hex "$CSRF")'")"
db_sql "SELECT * FROM sessions" >"$T_TMP/sessions.txt"
db_sql "SELECT HEX(token_hash), HEX(csrf_hash) FROM sessions" \
    >>"$T_TMP/sessions.txt"
check_fails "no session row contains the raw session token" \
    grep -qF -- "$TOK" "$T_TMP/sessions.txt"
check_fails "no session row contains the raw CSRF token" \
    grep -qF -- "$CSRF" "$T_TMP/sessions.txt"

# --- CSRF ------------------------------------------------------------------------------
login "alice-$RUN" "$PW" >/dev/null
TOK2=$(cookie_token)
CSRF2=$(jbody .csrf_token)
code=$(logout -b "estuary_session=$TOK")
check_eq "logout without X-CSRF-Token: 403" 403 "$code"
check_eq "logout without X-CSRF-Token: code CSRF" CSRF "$(jbody .error.code)"
code=$(logout -b "estuary_session=$TOK" \
    -H "X-CSRF-Token: $CSRF2")
check_eq "logout with another session's CSRF token: 403" 403 "$code"
code=$(logout -b "estuary_session=$TOK" \
    -H "X-CSRF-Token: not a token")
check_eq "logout with a malformed CSRF token: 403" 403 "$code"
check_eq "the session survives refused requests" 200 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$TOK")"

# --- logout ----------------------------------------------------------------------------
code=$(logout -b "estuary_session=$TOK" \
    -H "X-CSRF-Token: $CSRF")
check_eq "logout: 204" 204 "$code"
check_match "logout: the cookie is cleared" \
    '^estuary_session=; Max-Age=0;.*HttpOnly' "$(header Set-Cookie)"
check_eq "after logout: me 401" 401 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$TOK")"
check_eq "after logout: the session row is gone" 0 \
    "$(db_sql "SELECT COUNT(*) FROM sessions
	WHERE HEX(token_hash) = '$(sha256hex "$TOK")'")"
check_eq "the other session still works" 200 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$TOK2")"

# --- timeouts (the session's times moved back in the database) -------------------------
login "idle-$RUN" "$PW" >/dev/null
ITOK=$(cookie_token)
check_eq "idle: me 200 while fresh" 200 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$ITOK")"
db_sql "UPDATE sessions SET last_seen_at = last_seen_at - INTERVAL 31 MINUTE
    WHERE HEX(token_hash) = '$(sha256hex "$ITOK")'"
check_eq "idle for 31 minutes (default timeout 30): me 401" 401 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$ITOK")"
check_eq "idle: the expired session row is deleted" 0 \
    "$(db_sql "SELECT COUNT(*) FROM sessions
	WHERE HEX(token_hash) = '$(sha256hex "$ITOK")'")"
login "idle-$RUN" "$PW" >/dev/null
ITOK=$(cookie_token)
db_sql "UPDATE sessions SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND
    WHERE HEX(token_hash) = '$(sha256hex "$ITOK")'"
check_eq "past the absolute timeout: me 401" 401 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$ITOK")"
check_eq "absolute timeout set 12 hours after login" 720 \
    "$(db_sql "SELECT TIMESTAMPDIFF(MINUTE, created_at, expires_at)
	FROM sessions WHERE HEX(token_hash) = '$(sha256hex "$TOK2")'")"

# --- deactivation ends sessions and logins -------------------------------------------------
login "gone-$RUN" "$PW" >/dev/null
GTOK=$(cookie_token)
db_sql "UPDATE users SET active = FALSE WHERE username = 'gone-$RUN'"
check_eq "inactive user: the session is refused" 401 \
    "$(http GET /api/v1/auth/me -b "estuary_session=$GTOK")"
check_eq "inactive user: login 401" 401 "$(login "gone-$RUN" "$PW")"
check "inactive user: the same body as a wrong password" \
    cmp "$T_TMP/wrongpw.json" "$T_TMP/body"

# --- API applications: HTTP Basic -----------------------------------------------------------
code=$(http GET /api/v1/auth/me -u "$APP_ID:$APP_KEY")
check_eq "Basic AppID:AppKey: me 200" 200 "$code"
check_eq "Basic: an application" application "$(jbody .type)"
check_eq "Basic: its AppID" "$APP_ID" "$(jbody .app_id)"
check_eq "Basic: by basic" basic "$(jbody .auth_method)"
check_eq "Basic: its role" tenant_operator "$(jbody .role)"
check_eq "Basic: the use is recorded" 1 \
    "$(db_sql "SELECT last_used_at IS NOT NULL FROM api_applications
	WHERE app_id = '$APP_ID'")"
code=$(http GET /api/v1/auth/me -u "$APP_ID:wrong$APP_KEY")
check_eq "Basic with a wrong key: 401" 401 "$code"
check_eq "Basic with a wrong key: Basic challenge" \
    'Basic realm="estuary-api"' "$(header WWW-Authenticate)"
check_eq "Basic with an unknown AppID: 401" 401 "$(http GET /api/v1/auth/me \
    -u "00000000000000000000000000000000:$APP_KEY")"
code=$(http GET /api/v1/auth/me -u "$APP_ID:$APP_KEY" \
    -b "estuary_session=$TOK2")
check_eq "cookie and Basic together: 400" 400 "$code"
check_eq "Basic needs no CSRF token (logout answers 400, not 403)" 400 \
    "$(logout -u "$APP_ID:$APP_KEY")"
db_sql "UPDATE api_applications SET revoked_at = UTC_TIMESTAMP(6),
    active = FALSE WHERE app_id = '$APP_ID'"
check_eq "Basic with a revoked application: 401" 401 \
    "$(http GET /api/v1/auth/me -u "$APP_ID:$APP_KEY")"
db_sql "UPDATE api_applications SET revoked_at = NULL, active = TRUE,
    expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND
    WHERE app_id = '$APP_ID'"
check_eq "Basic with an expired application: 401" 401 \
    "$(http GET /api/v1/auth/me -u "$APP_ID:$APP_KEY")"
db_sql "UPDATE api_applications SET expires_at = NULL
    WHERE app_id = '$APP_ID'"
check_eq "Basic works again once it is valid" 200 \
    "$(http GET /api/v1/auth/me -u "$APP_ID:$APP_KEY")"

# --- API applications: TLS client certificate (straight to FastCGI) ---------------------------
APP_FP=$(cert app)
OTHER_FP=$(cert other)
db_sql "UPDATE api_applications SET cert_fingerprint = UNHEX('$APP_FP')
    WHERE app_id = '$APP_ID'"
code=$(fcgi GET /api/v1/auth/me '' SSL_CLIENT_VERIFY=SUCCESS \
    SSL_CLIENT_CERT="$(cat "$T_TMP/app.pem")")
check_eq "application certificate: me 200" 200 "$code"
check_eq "application certificate: by certificate" certificate \
    "$(jq -r .auth_method "$T_TMP/fbody" 2>/dev/null)"
check_eq "application certificate: the application" "$APP_ID" \
    "$(jq -r .app_id "$T_TMP/fbody" 2>/dev/null)"
check_eq "application certificate with FAILED verification: 401" 401 \
    "$(fcgi GET /api/v1/auth/me '' SSL_CLIENT_VERIFY=FAILED:unknown \
    SSL_CLIENT_CERT="$(cat "$T_TMP/app.pem")")"
check_eq "another certificate: 401" 401 \
    "$(fcgi GET /api/v1/auth/me '' SSL_CLIENT_VERIFY=SUCCESS \
    SSL_CLIENT_CERT="$(cat "$T_TMP/other.pem")")"

# --- strong authentication of a user ---------------------------------------------------------
db_sql "UPDATE users SET cert_fingerprint = UNHEX('$OTHER_FP')
    WHERE username = 'strong-$RUN'"
check_eq "strong user without a certificate: 401" 401 \
    "$(login "strong-$RUN" "$PW")"
check "strong user without a certificate: the same body" \
    cmp "$T_TMP/wrongpw.json" "$T_TMP/body"
body=$(jq -nc --arg u "strong-$RUN" --arg p "$PW" \
    '{username: $u, password: $p}')
check_eq "strong user with another certificate: 401" 401 \
    "$(fcgi POST /api/v1/auth/login "$body" SSL_CLIENT_VERIFY=SUCCESS \
    SSL_CLIENT_CERT="$(cat "$T_TMP/app.pem")")"
check_eq "strong user with the bound certificate: 200" 200 \
    "$(fcgi POST /api/v1/auth/login "$body" SSL_CLIENT_VERIFY=SUCCESS \
    SSL_CLIENT_CERT="$(cat "$T_TMP/other.pem")")"
check_eq "strong user: strong_auth in the answer" true \
    "$(jq -r .user.strong_auth "$T_TMP/fbody" 2>/dev/null)"
STOK=$(fheader Set-Cookie | sed -n 's/^estuary_session=\([^;]*\);.*/\1/p')
check_eq "strong session with the certificate: me 200" 200 \
    "$(fcgi GET /api/v1/auth/me '' HTTP_COOKIE="estuary_session=$STOK" \
    SSL_CLIENT_VERIFY=SUCCESS SSL_CLIENT_CERT="$(cat "$T_TMP/other.pem")")"
check_eq "strong session without the certificate: 401" 401 \
    "$(fcgi GET /api/v1/auth/me '' HTTP_COOKIE="estuary_session=$STOK")"

# --- throttling --------------------------------------------------------------------------------
for i in 1 2 3 4 5; do
	code=$(login "thr-$RUN" "wrong-$i")
	[ "$code" = 401 ] || break
done
check_eq "throttle: five failures answered 401" 401 "$code"
code=$(login "thr-$RUN" "$PW")
check_eq "throttle: the sixth attempt is 429, right password or not" 429 \
    "$code"
check_eq "throttle: code TOOMANY" TOOMANY "$(jbody .error.code)"
ra=$(header Retry-After)
check_match "throttle: Retry-After in seconds" '^[0-9]+$' "$ra"
check "throttle: Retry-After within the 15-minute window" \
    test "${ra:-0}" -ge 880 -a "${ra:-0}" -le 900
check_eq "throttle: a refused attempt is not recorded as a failure" 5 \
    "$(db_sql "SELECT COUNT(*) FROM login_attempts
	WHERE username = 'thr-$RUN' AND NOT success")"
check_eq "throttle: other accounts may still log in" 200 \
    "$(login "clr-$RUN" "$PW")"

for i in 1 2 3 4; do login "clr-$RUN" "wrong-$i" >/dev/null; done
check_eq "four failures, then the right password: 200" 200 \
    "$(login "clr-$RUN" "$PW")"
for i in 1 2 3 4; do
	code=$(login "clr-$RUN" "wrong-again-$i")
done
check_eq "a success cleared the account's count: four more are 401" 401 \
    "$code"
check_eq "... and the right password still logs in" 200 \
    "$(login "clr-$RUN" "$PW")"

# Unknown users from this address until the address's limit (20) is hit.
for i in $(seq 1 25); do
	code=$(login "stranger-$RUN-$i" "x")
	[ "$code" = 429 ] && break
done
check_eq "throttle per address: 429 for a fresh username" 429 "$code"
check_eq "throttle per address: after 20 failures from the address" 20 \
    "$(db_sql "SELECT COUNT(*) FROM login_attempts
	WHERE source_addr = '$CLIENT_ADDR' AND NOT success AND
	ts > UTC_TIMESTAMP(6) - INTERVAL 15 MINUTE")"
check_eq "throttle per address: another address may still log in" 200 \
    "$(fcgi POST /api/v1/auth/login "$(jq -nc --arg u "clr-$RUN" \
    --arg p "$PW" '{username: $u, password: $p}')")"

# --- the audit log ------------------------------------------------------------------------------
check_eq "audit: login success" 1 \
    "$(audit_count "alice-$RUN" login success '%' | awk '{ print ($1 >= 1) }')"
check_eq "audit: wrong password" 1 \
    "$(audit_count "alice-$RUN" login failure 'wrong password')"
check_eq "audit: unknown user, with the name typed" 1 \
    "$(audit_count "nobody-$RUN" login failure 'unknown user')"
check_eq "audit: inactive user, with the true reason" 1 \
    "$(audit_count "gone-$RUN" login failure 'user inactive')"
check_eq "audit: missing client certificate" 1 \
    "$(audit_count "strong-$RUN" login failure 'client certificate required')"
check_eq "audit: throttled attempt denied" 1 \
    "$(audit_count "thr-$RUN" login denied 'throttled%account')"
check_eq "audit: logout" 1 \
    "$(audit_count "alice-$RUN" logout success '%' | awk '{ print ($1 >= 1) }')"
check_eq "audit: wrong application key" 1 \
    "$(audit_count "App $RUN" authenticate failure 'wrong application key')"
check_eq "audit: revoked application" 1 \
    "$(audit_count "App $RUN" authenticate failure 'application revoked')"
check_match "audit: the chain verifies" '^audit log OK' \
    "$(ctl audit verify 2>&1 | head -n 1)"

finish
