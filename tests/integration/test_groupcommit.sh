#!/bin/bash
#
# Group commit of issued certificates (fcgi/txq.c, fcgi/api_cert_issue.c)
# through the web server over TLS: a burst of POST /api/v1/certificates,
# 8 at a time, with one CSR in it that the template refuses.  Every other
# request is answered 201 with a certificate of its own (distinct ids and
# serial numbers, each read back with its serial), each has exactly one
# "issue" audit row naming its serial, the refused one wrote nothing, and
# the audit chain verifies.  The same again, smaller, with group_commit =
# no in estuary.conf: the script restarts estuary-api with it (./devstack
# restart api) and puts the file and the API back as they were when it
# ends, however it ends.  The template is a new one of the demo issuing
# CA, so that its certificates are exactly the burst's.  Between the two,
# a burst of EST simpleenroll requests of the demo API application
# (AppID:AppKey on the demo's EC EST server, fcgi/est_commit.c): every
# answer 200 with a certificate of its own, each with one enrollment
# record and one "issue" audit row.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

CERTS=/api/v1/certificates
DEVSTACK=$ESTUARY_SRCDIR/devstack
API_LOG=$ESTUARY_VAR/log/api.log
export ESTUARY_VAR

# post_one DIR NAME: POST DIR/NAME.json with the admin session; the body
# goes to DIR/NAME.body, the status to DIR/NAME.code.  Runs in the
# parallel children of xargs, so it touches only files of its own.
post_one() {
	curl -sS -o "$1/$2.body" -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	    -b "$T_TMP/admin.jar" -H "X-CSRF-Token: $(cat "$T_TMP/admin.csrf")" \
	    -H 'Content-Type: application/json' --data-binary "@$1/$2.json" \
	    "$ESTUARY_URL$CERTS" >"$1/$2.code" 2>"$1/$2.err"
}
export -f post_one
export T_TMP ESTUARY_TLS_CA ESTUARY_URL CERTS

# est_one DIR NAME: POSTs DIR/NAME.b64 to the demo EC EST server's
# simpleenroll as the demo application; body and status as post_one's.
est_one() {
	local h=$ESTUARY_EST_EC_HOST:$ESTUARY_EST_PORT

	curl -sS -o "$1/$2.body" -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	    --resolve "$h:127.0.0.1" -u "$ESTUARY_APP_ID:$ESTUARY_APP_KEY" \
	    -H 'Content-Type: application/pkcs10' --data-binary "@$1/$2.b64" \
	    "https://$h/.well-known/est/simpleenroll" >"$1/$2.code" 2>"$1/$2.err"
}
export -f est_one
export ESTUARY_EST_EC_HOST ESTUARY_EST_PORT ESTUARY_APP_ID ESTUARY_APP_KEY

# health_until CODE: polls the health endpoint until it answers CODE
# (bounded); prints the last status code.
health_until() {
	local i code=

	for ((i = 0; i < 100; i++)); do
		code=$(http GET /api/v1/health)
		[ "$code" = "$1" ] && break
		sleep 0.1
	done
	echo "$code"
}

# api_mode: "writer" when the running estuary-api started with group
# commit, "none" when without, from its last start-up line.
api_mode() {
	grep 'estuary-api.*listening on ' "$API_LOG" | tail -n 1 |
	    grep -q 'and a writer$' && echo writer || echo none
}

# issue_rows: the "issue" audit rows of certificates.
issue_rows() {
	db_sql "SELECT COUNT(*) FROM audit_log
	    WHERE entity = 'certificate' AND action = 'issue'"
}

# burst LABEL N: N requests with CSRs of CN gc-LABEL-I-$RUN and, in the
# middle of them, one with an RSA CSR that the template refuses, 8 at a
# time; then every check of the header comment, named "LABEL: ...".
burst() {
	local label=$1 n=$2 d=$T_TMP/$1 i ids id serial sn bad=0
	local before_rows before_issue codes

	mkdir -p "$d"
	for i in $(seq 0 $((n - 1))) bad; do
		if [ "$i" = bad ]; then
			csr_new "$d/$i" "/CN=gc-$label-bad-$RUN" rsa
		else
			csr_new "$d/$i" "/CN=gc-$label-$i-$RUN"
		fi || { echo "setup failed"; exit 1; }
		jq -nc --argjson t "$TPL" --rawfile c "$d/$i.csr" \
		    '{template_id: $t, csr: $c}' >"$d/$i.json" ||
		    { echo "setup failed"; exit 1; }
	done
	before_rows=$(nrows "certificates WHERE template_id = $TPL")
	before_issue=$(issue_rows)

	# The refused request goes in the middle of the burst.
	# shellcheck disable=SC2016 # expanded by the child bash, on purpose
	{
		seq 0 $((n / 2 - 1))
		echo bad
		seq $((n / 2)) $((n - 1))
	} | xargs -P 8 -n 1 bash -c 'post_one "$0" "$1"' "$d"

	codes=$(for ((i = 0; i < n; i++)); do cat "$d/$i.code"; echo; done |
	    sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = " " }')
	check_eq "$label: every answer 201" "201 x$n" "$codes"
	ids=$(for ((i = 0; i < n; i++)); do
		jq -r '.id // empty' "$d/$i.body" 2>/dev/null
	done)
	check_eq "$label: $n distinct ids" "$n" "$(sort -u <<<"$ids" | grep -c .)"
	check_eq "$label: $n distinct serials" "$n" "$(for ((i = 0; i < n; i++)); do
		jq -r '.serial // empty' "$d/$i.body" 2>/dev/null
	done | sort -u | grep -c .)"
	for ((i = 0; i < n; i++)); do
		id=$(jq -r '.id // empty' "$d/$i.body" 2>/dev/null)
		serial=$(jq -r '.serial // empty' "$d/$i.body" 2>/dev/null)
		sn=$(jq -r '.subject_cn // empty' "$d/$i.body" 2>/dev/null)
		if [ -z "$id" ] ||
		    [ "$(as admin GET "$CERTS/$id")" != 200 ] ||
		    [ "$(jbody .serial)" != "$serial" ] ||
		    [ "$(jbody .id)" != "$id" ]; then
			bad=$((bad + 1))
		fi
		# The answer is this request's certificate, not another's.
		[ "$sn" = "gc-$label-$i-$RUN" ] || bad=$((bad + 1))
	done
	check_eq "$label: each id reads back 200 with its serial and CN" 0 "$bad"
	check_eq "$label: the template's certificates are the $n new ones" \
	    "$((before_rows + n))" \
	    "$(nrows "certificates WHERE template_id = $TPL")"

	ids=$(paste -sd, <<<"$ids")
	[ -n "$ids" ] || ids=0
	check_eq "$label: exactly one issue audit row per new id" "$n" \
	    "$(db_sql "SELECT COUNT(*) FROM (SELECT entity_id FROM audit_log
		WHERE entity = 'certificate' AND action = 'issue'
		AND entity_id IN ($ids) GROUP BY entity_id
		HAVING COUNT(*) = 1 AND MIN(outcome) = 'success') x")"
	check_eq "$label: each issue audit row names its certificate's serial" \
	    "$n" "$(db_sql "SELECT COUNT(*) FROM audit_log a
		JOIN certificates c ON c.id = a.entity_id
		WHERE a.entity = 'certificate' AND a.action = 'issue'
		AND c.id IN ($ids)
		AND a.details LIKE CONCAT('%\"', LOWER(HEX(c.serial)), '\"%')")"
	check_eq "$label: no other issue audit row" "$((before_issue + n))" \
	    "$(issue_rows)"
	# How many certificates share their created_at with another, as the
	# rows of one multi-row INSERT do (two statements in the same
	# microsecond can too): how much the writer grouped depends on
	# timing, so this is only shown, never checked.
	printf 'note %s: %s of %s certificates share a created_at\n' "$label" \
	    "$(db_sql "SELECT COALESCE(SUM(k), 0) FROM (SELECT COUNT(*) k
		FROM certificates WHERE id IN ($ids)
		GROUP BY created_at HAVING COUNT(*) > 1) x")" "$n"

	check_eq "$label: the refused CSR: 422" 422 "$(cat "$d/bad.code")"
	check_eq "$label: the refused CSR: field key" key \
	    "$(jq -r '.error.field' "$d/bad.body" 2>/dev/null)"
	check_eq "$label: the refused CSR: no certificate" 0 \
	    "$(nrows "certificates WHERE subject_cn = 'gc-$label-bad-$RUN'")"
	check "$label: estuaryctl audit verify" ctl audit verify
}

admin_session

# --- setup: a template of the demo issuing CA --------------------------------------
issuing_cn=$(openssl x509 -in "$ESTUARY_ISSUING_CA_PEM" -noout -subject \
    -nameopt sep_multiline,utf8 | sed -n 's/^ *CN=//p')
check_eq "setup: the demo issuing CA" 200 \
    "$(as admin GET "/api/v1/cas?name=$(jq -rn --arg n "$issuing_cn" \
	'$n|@uri')")"
ISS=$(jbody '.items[0].id // empty')
[ -n "$ISS" ] || { echo "setup failed: no demo issuing CA"; exit 1; }
TPL=$(tpl_add "Group commit $RUN" general "$ISS" \
    '[{"attribute": "CN", "rule": "required", "max_length": 64}]')
check_match "setup: an EC-only template of the demo issuing CA" '^[0-9]+$' \
    "$TPL"
if [ -z "$TPL" ] || [ "$TPL" = null ]; then
	echo "setup failed"
	exit 1
fi

# --- group commit on (the instance's setting) ---------------------------------------
check_eq "estuary-api runs with a writer thread" writer "$(api_mode)"
burst grouped 64

# --- EST enrollments of an application, group commit on ---------------------------
# est_burst N: N simpleenroll requests of the demo application, 8 at a time.
est_burst() {
	local n=$1 d=$T_TMP/est i serials serial ids bad=0

	mkdir -p "$d"
	for ((i = 0; i < n; i++)); do
		if ! csr_new "$d/$i" "/CN=gc-est-$i-$RUN" ||
		    ! openssl req -in "$d/$i.csr" -outform DER |
		    base64 -w 64 >"$d/$i.b64"; then
			echo "setup failed"
			exit 1
		fi
	done
	# shellcheck disable=SC2016 # expanded by the child bash, on purpose
	seq 0 $((n - 1)) | xargs -P 8 -n 1 bash -c 'est_one "$0" "$1"' "$d"
	check_eq "EST: every answer 200" "200 x$n" "$(for ((i = 0; i < n; i++)); do
		cat "$d/$i.code"; echo; done | sort | uniq -c |
	    awk '{ printf "%s%s x%s", s, $2, $1; s = " " }')"
	serials=
	for ((i = 0; i < n; i++)); do
		serial=$(base64 -d "$d/$i.body" 2>/dev/null |
		    openssl pkcs7 -inform DER -print_certs 2>/dev/null |
		    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//')
		[ -n "$serial" ] || bad=$((bad + 1))
		serials="$serials $serial"
	done
	check_eq "EST: each answer is a certificate" 0 "$bad"
	check_eq "EST: $n distinct serials" "$n" \
	    "$(tr ' ' '\n' <<<"$serials" | grep . | sort -u | wc -l)"
	ids=$(for serial in $serials; do
		db_sql "SELECT id FROM certificates
		    WHERE serial = UNHEX('$serial') AND issued_via = 'est'"
	done | paste -sd,)
	[ -n "$ids" ] || ids=0
	check_eq "EST: a row per certificate" "$n" \
	    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE id IN ($ids)")"
	check_eq "EST: one success record per certificate, the application's" \
	    "$n" "$(db_sql "SELECT COUNT(DISTINCT e.certificate_id)
		FROM est_enrollments e JOIN api_applications a
		ON a.id = e.app_id AND a.app_id = '$ESTUARY_APP_ID'
		WHERE e.certificate_id IN ($ids) AND e.outcome = 'success'
		AND e.auth_method = 'app_key'")"
	check_eq "EST: no second record of a certificate" "$n" \
	    "$(db_sql "SELECT COUNT(*) FROM est_enrollments
		WHERE certificate_id IN ($ids)")"
	check_eq "EST: exactly one issue audit row per certificate" "$n" \
	    "$(db_sql "SELECT COUNT(*) FROM (SELECT entity_id FROM audit_log
		WHERE entity = 'certificate' AND action = 'issue'
		AND actor_type = 'application' AND entity_id IN ($ids)
		GROUP BY entity_id HAVING COUNT(*) = 1) x")"
	check "EST: estuaryctl audit verify" ctl audit verify
}
est_burst 32

# --- group commit off ---------------------------------------------------------------
CONF_SAVED=$T_TMP/estuary.conf.saved
cp "$ESTUARY_CONF" "$CONF_SAVED" || { echo "setup failed"; exit 1; }
CONF_CHANGED=

# restore_conf: estuary.conf as it was, and estuary-api started with it.
restore_conf() {
	[ -n "$CONF_CHANGED" ] || return 0
	CONF_CHANGED=
	cat "$CONF_SAVED" >"$ESTUARY_CONF"
	"$DEVSTACK" restart api >/dev/null 2>&1
}
at_exit restore_conf

{
	grep -v '^[[:space:]]*group_commit[[:space:]]*=' "$CONF_SAVED"
	echo 'group_commit = no'
} >"$T_TMP/estuary.conf.new"
CONF_CHANGED=1
cat "$T_TMP/estuary.conf.new" >"$ESTUARY_CONF"
check "group_commit = no: devstack restart api" "$DEVSTACK" restart api
check_eq "group_commit = no: health 200" 200 "$(health_until 200)"
check_eq "group_commit = no: estuary-api runs without a writer" none \
    "$(api_mode)"
burst single 16

# --- back as it was -----------------------------------------------------------------
restore_conf
check_eq "restored: health 200" 200 "$(health_until 200)"
check_eq "restored: estuary-api runs with a writer again" writer "$(api_mode)"

finish
