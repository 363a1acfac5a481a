#!/bin/bash
#
# The stack as an HTTPS client sees it, through lighttpd: the health
# endpoint, EST cacerts (media type, PKCS#7 content, chain), TLS versions,
# IPv6, optional client certificates, routing errors, malformed requests
# and oversized bodies, and the static landing page.  Runs against the
# instance described by the ESTUARY_* variables (see lib.sh).

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

HOSTPORT=${ESTUARY_URL#https://}
PORT=${HOSTPORT##*:}

# raw REQUEST: sends REQUEST (printf format, CRLFs included) over TLS
# and prints the response's status line.  s_client keeps reading after
# its input ends (-quiet implies -ign_eof), so a status line shows that
# the server answered without waiting for more; the timeout bounds it.
raw() {
	# shellcheck disable=SC2059
	printf "$1" | timeout 15 openssl s_client -quiet -verify_quiet \
	    -CAfile "$ESTUARY_TLS_CA" -connect "127.0.0.1:$PORT" \
	    -servername localhost 2>/dev/null | head -n 1 | tr -d '\r'
}

# --- health --------------------------------------------------------------------
code=$(http GET /api/v1/health)
check_eq "health: status 200" 200 "$code"
check_match "health: JSON media type" '^application/json' \
    "$(header Content-Type)"
check_eq "health: status field ok" ok "$(jbody .status)"
check_eq "health: database ok" ok "$(jbody .database)"
check_eq "health: signer ok" ok "$(jbody .signer)"
check_eq "health: not cacheable" no-store "$(header Cache-Control)"

# --- EST cacerts ----------------------------------------------------------------
# EST is served per EST server, routed by host (test_est.sh has the chains):
# a host that no EST server has is 404, in EST's text/plain form.
code=$(http GET /.well-known/est/cacerts)
check_eq "cacerts of a host that is no EST server: 404" 404 "$code"
check_match "cacerts: 404 is text/plain" '^text/plain' "$(header Content-Type)"
check "cacerts: 404 says why" grep -q 'unknown EST domain' "$T_TMP/body"

# --- TLS versions, IPv6, client certificates --------------------------------------
check_eq "TLS 1.2 only: health 200" 200 \
    "$(http GET /api/v1/health --tlsv1.2 --tls-max 1.2)"
check_eq "TLS 1.3 only: health 200" 200 \
    "$(http GET /api/v1/health --tlsv1.3)"
check_match "TLS 1.2: s_client negotiates TLSv1.2" 'Protocol *: TLSv1\.2' \
    "$(openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -tls1_2 -CAfile "$ESTUARY_TLS_CA" </dev/null 2>/dev/null)"
# The client allows old protocols (security level 0), so a failure can only
# come from the server.
check_match "TLS 1.1 refused by the server" 'alert protocol version' \
    "$(openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1)"
if [ "${ESTUARY_IPV6:-yes}" = yes ]; then
	check_eq "IPv6: health over [::1]" 200 "$(curl -sS -o /dev/null \
	    -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	    "https://[::1]:$PORT/api/v1/health")"
else
	printf 'note %s\n' "IPv6 loopback not configured on this host"
fi
# lighttpd sends the names of the CAs in ssl.verifyclient.ca-file: the file
# estuaryctl wrote, which must hold the demo CAs.
issuing_cn=$(openssl x509 -in "$ESTUARY_ISSUING_CA_PEM" -noout -subject \
    -nameopt sep_multiline,utf8 | sed -n 's/^ *CN=//p')
openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$ESTUARY_TLS_CA" </dev/null >"$T_TMP/hello" 2>/dev/null
check "client certificates are requested" \
    grep -q 'Acceptable client certificate CA names' "$T_TMP/hello"
check "the requested CA names include the issuing CA" \
    grep -qF "CN = $issuing_cn" "$T_TMP/hello"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T_TMP/stranger.key" -out "$T_TMP/stranger.pem" -days 1 \
    -subj "/CN=stranger" 2>/dev/null
check_eq "a client certificate from an unknown CA is not refused" 200 \
    "$(http GET /api/v1/health --cert "$T_TMP/stranger.pem" \
    --key "$T_TMP/stranger.key")"

# --- routing errors ---------------------------------------------------------------
check_eq "cacerts: POST is 405" 405 \
    "$(http POST /.well-known/est/cacerts -H 'Content-Type: application/pkcs10' \
    --data-binary 'x')"
check_match "cacerts: 405 names the allowed methods" 'GET' "$(header Allow)"
check_eq "EST: unknown operation is 404" 404 \
    "$(http GET /.well-known/est/nosuchoperation)"
check_eq "API: unknown path is 404" 404 "$(http GET /api/v1/no/such/thing)"
check_match "API: 404 is JSON" '^application/json' "$(header Content-Type)"
check_eq "API: 404 has the error shape" true \
    "$(jbody '(.error.code|type=="string") and
    (.error.message|type=="string") and (.error|keys - ["code","message","field"] == [])')"
check_eq "API: 404 error code" NOTFOUND "$(jbody .error.code)"

# --- malformed requests --------------------------------------------------------
check_match "Host with a space is 400" ' 400' \
    "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n')"
check_match "Host with a bare CR is 400" ' 400' \
    "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: a\rb.example\r\nConnection: close\r\n\r\n')"
# lighttpd and Apache refuse a bare LF in the header block.  nginx takes it
# for a line end (RFC 9112 2.2 allows that) and "evil" for a header of its
# own: the Host stays "a.example", so nothing is injected either.
if [ "${ESTUARY_WEB:-lighttpd}" = nginx ]; then
	check_match "Host split by a bare LF: nginx ends the Host there" ' 200' \
	    "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: a.example\nevil\r\nConnection: close\r\n\r\n')"
else
	check_match "Host split by a bare LF is 400" ' 400' \
	    "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: a.example\nevil\r\nConnection: close\r\n\r\n')"
fi
check_match "Host with userinfo is 400" ' 400' \
    "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: user@evil.example\r\nConnection: close\r\n\r\n')"
check_match "Host with a slash is 400" ' 400' \
    "$(raw 'GET /.well-known/est/cacerts HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n')"
check_match "a well-formed raw request is 200 (control)" ' 200' \
    "$(raw 'GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')"

# --- oversized bodies ------------------------------------------------------------
# The body is announced but never sent: a 413 can only come from
# Content-Length, before anything was read.
check_match "API: 2 MiB body announced, 413 without reading it" ' 413' \
    "$(raw 'POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n')"
check_match "EST: 2 MiB body announced, 413 without reading it" ' 413' \
    "$(raw 'POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n')"
head -c 2097152 /dev/zero >"$T_TMP/big"
check_eq "API: 2 MiB body sent (Expect: 100-continue) is 413" 413 \
    "$(http POST /api/v1/health -H 'Content-Type: application/json' \
    --data-binary @"$T_TMP/big")"
check_eq "EST: 2 MiB body sent at once is 413" 413 \
    "$(http POST /.well-known/est/simpleenroll -H 'Expect:' \
    -H 'Content-Type: application/pkcs10' --data-binary @"$T_TMP/big")"
# Just under the limit, the body reaches the application, which answers.
head -c 900000 /dev/zero >"$T_TMP/under"
check_eq "API: a 900 kB body reaches the application (405)" 405 \
    "$(http POST /api/v1/health -H 'Content-Type: application/json' \
    --data-binary @"$T_TMP/under")"
check_eq "API: its answer has the error shape" METHOD \
    "$(jbody .error.code)"

# --- static pages ------------------------------------------------------------------
check_eq "landing page: 200" 200 "$(http GET /)"
check_match "landing page: HTML" '^text/html' "$(header Content-Type)"
check "landing page: names the product" grep -q 'Estuary' "$T_TMP/body"
check "landing page: checks /api/v1/health" grep -q '/api/v1/health' \
    "$T_TMP/body"
# The page's inline script runs only if its hash is the one in the policy.
script_hash=$(perl -0777 -ne 'print $1 if m{<script>(.*?)</script>}s' \
    "$T_TMP/body" | openssl dgst -sha256 -binary | openssl base64 -A)
check_match "landing page: the CSP allows exactly its inline script" \
    "script-src 'sha256-${script_hash//+/\\+}'" \
    "$(header Content-Security-Policy)"
check_eq "landing page: nosniff" nosniff "$(header X-Content-Type-Options)"
check_eq "style sheet: 200" 200 "$(http GET /estuary.css)"
check_match "style sheet: text/css" '^text/css' "$(header Content-Type)"
check_eq "API description: 200" 200 "$(http GET /docs/openapi.yaml)"
check "API description: OpenAPI 3" grep -q '^openapi: 3' "$T_TMP/body"
check_eq "no such static file: 404" 404 "$(http GET /no-such-file.html)"

finish
