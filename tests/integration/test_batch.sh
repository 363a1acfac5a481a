#!/bin/bash
#
# Batch jobs over HTTPS (fcgi/api_batch.h) and estuary-worker: a job of 20
# server-generated keys run to completion, its archive downloaded and
# every PKCS#12 opened with its passphrase and verified against the CA;
# one passphrase per batch; CSV uploads (one bad row refused with the row
# and field named and nothing written, a good one issued); the other
# refusals of the create request; cancellation of a queued and of a
# running job; an item that fails alone; a worker killed with SIGKILL in
# the middle of a job of 200 and started again: exactly 200 certificates,
# no index twice, a complete archive; keys and archive past their
# retention destroyed by `estuary-worker --once` (410 after); the
# permissions of tenant roles; the audit rows.  Names carry a per-run
# suffix so that it can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PW="pw-$RUN-Secret"
BATCH=/api/v1/batch-jobs
TPL=/api/v1/cert-templates
WORKER_PID=$ESTUARY_VAR/run/fcgi/worker.pid
BATCH_DIR=$(conf batch_dir /var/lib/estuary/batch)
# Polls are bounded: 0.1 s apart, at most this many.
POLLS=1200

devstack() {
	"$ESTUARY_SRCDIR/devstack" "$@" >/dev/null 2>&1
}

worker_pid() {
	local pid

	IFS= read -r pid <"$WORKER_PID" 2>/dev/null && kill -0 "$pid" 2>/dev/null &&
	    echo "$pid"
}

# Whatever the script stopped is running again when it ends.
restart_worker() {
	devstack start worker
}
at_exit restart_worker

# create WHO JSON: POST a job; its status in $CODE, the job's id in $JOB.
create() {
	CODE=$(as "$1" POST $BATCH "$2")
	JOB=$(jbody .id)
}

# wait_job ID: polls the job until it ends; prints its final status.
wait_job() {
	local i st=

	for ((i = 0; i < POLLS; i++)); do
		as admin GET "$BATCH/$1" >/dev/null
		st=$(jbody .status)
		case $st in
		completed | cancelled | failed)
			echo "$st"
			return 0
			;;
		esac
		sleep 0.1
	done
	echo "still $st"
}

# wait_done ID N: polls the database until job ID has N items done.
wait_done() {
	local i

	for ((i = 0; i < POLLS * 5; i++)); do
		[ "$(db_sql "SELECT done FROM batch_jobs WHERE id = $1")" -ge "$2" ] &&
		    return 0
		sleep 0.02
	done
	return 1
}

# archive WHO ID DIR: downloads the archive of job ID and unpacks it into
# DIR; prints the status.
archive() {
	local code

	code=$(as "$1" POST "$BATCH/$2/archive" '{}')
	cp "$T_TMP/body" "$T_TMP/$2.zip"
	if [ "$code" = 200 ]; then
		rm -rf "$3" && mkdir -p "$3" &&
		    unzip -q -o "$T_TMP/$2.zip" -d "$3" >/dev/null 2>&1
	fi
	printf '%s' "$code"
}

# open_all DIR [PASSPHRASE]: opens every PKCS#12 of an unpacked archive
# with the passphrase passphrases.txt gives it (or PASSPHRASE, for a batch
# passphrase that CSV quoting makes awkward to read here), verifies its
# certificate against the chain and checks that its key and serial match;
# prints how many passed.
open_all() {
	local dir=$1 idx file serial pass ok=0 all=${2:-}

	[ -n "$all" ] || all=$(awk -F, 'NR == 2 && $1 == "*" { print $4 }' \
	    "$dir/passphrases.txt" | tr -d '\r')
	while IFS=, read -r idx file serial pass; do
		[ "$idx" = idx ] && continue
		[ "$idx" = '*' ] && continue
		pass=${pass%$'\r'}
		[ -n "$all" ] && pass=$all
		openssl pkcs12 -in "$dir/$file" -passin "pass:$pass" -nodes \
		    -out "$T_TMP/one.pem" 2>/dev/null || continue
		openssl x509 -in "$T_TMP/one.pem" -out "$T_TMP/leaf.pem" \
		    2>/dev/null || continue
		openssl verify -CAfile "$T_TMP/root.pem" -untrusted \
		    "$T_TMP/issuing.pem" "$T_TMP/leaf.pem" >/dev/null 2>&1 ||
		    continue
		[ "$(openssl x509 -in "$T_TMP/leaf.pem" -noout -pubkey)" = \
		    "$(openssl pkey -in "$T_TMP/one.pem" -pubout 2>/dev/null)" ] ||
		    continue
		[ "$(openssl x509 -in "$T_TMP/leaf.pem" -noout -serial |
		    sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//')" = \
		    "${serial#"${serial%%[!0]*}"}" ] || continue
		ok=$((ok + 1))
	done < <(if [ -n "$all" ]; then
		awk -F, 'NR > 1 && $3 ~ /\.p12$/ {
			print $1 "," $3 "," $4 ","
		}' "$dir/index.csv"
	else
		cat "$dir/passphrases.txt"
	fi)
	echo "$ok"
}

jobs_count() {
	db_sql "SELECT COUNT(*) FROM batch_jobs"
}

items_count() {
	db_sql "SELECT COUNT(*) FROM batch_items"
}

admin_session
check_match "setup: the worker runs" "^[0-9]+$" "$(worker_pid)"
check_match "setup: devstack status shows the worker" "worker: +running" \
    "$("$ESTUARY_SRCDIR/devstack" status 2>&1)"

# --- setup: CAs and templates ------------------------------------------------------
check_eq "setup: root CA" 201 "$(ca_post "Batch Root" root ec-p256 3650)"
ROOT=$(jbody .id)
check_eq "setup: issuing CA" 201 \
    "$(ca_post "Batch Issuing" issuing ec-p256 1825 "$ROOT")"
ISS=$(jbody .id)
as admin GET "/api/v1/cas/$ROOT/download?format=pem" >/dev/null
cp "$T_TMP/body" "$T_TMP/root.pem"
as admin GET "/api/v1/cas/$ISS/download?format=pem" >/dev/null
cp "$T_TMP/body" "$T_TMP/issuing.pem"
DEVICE=$(jq -nc --arg n "Batch Device $RUN" --argjson ca "$ISS" '{
	name: $n, type: "general", scope: "global", ca_id: $ca,
	validity_days: 30, key_types: ["ec-p256", "rsa-2048"],
	server_keygen: true, keygen_key_type: "ec-p256",
	key_usage: ["digitalSignature"], extended_key_usage: ["clientAuth"],
	key_retention_days: 2,
	subject_fields: [
		{attribute: "CN", rule: "required", max_length: 64},
		{attribute: "O", rule: "fixed", default_value: "Estuary Batch"}
	],
	san_fields: [{type: "dns", rule: "optional", max_length: 253}]}')
check_eq "setup: template" 201 "$(as admin POST $TPL "$DEVICE")"
TD=$(jbody .id)
check_eq "setup: template that keeps no key" 201 \
    "$(as admin POST $TPL "$(jq -c --arg n "Batch NoKeep $RUN" \
	'.name = $n | .key_retention_days = null' <<<"$DEVICE")")"
TN=$(jbody .id)

# --- 20 keys, one passphrase per certificate ----------------------------------------
BODY=$(jq -nc --argjson t "$TD" --arg cn "bt-$RUN-{index:03}" '{
	name: "twenty", template_id: $t, count: 20, key_type: "ec-p256",
	subject: {CN: $cn}, san: [{type: "dns", value: "bt-{index}.example"}],
	passphrase_mode: "per_certificate"}')
create admin "$BODY"
check_eq "20 keys: 202" 202 "$CODE"
J20=$JOB
check_eq "20 keys: Location" "$BATCH/$J20" "$(header Location)"
check_eq "20 keys: total" 20 "$(jbody .total)"
check_match "20 keys: queued or running" '^(queued|running)$' "$(jbody .status)"
check_eq "20 keys: the create is audited" 1 "$(audits batch_job create "$J20")"
check_eq "20 keys: 20 items written" 20 \
    "$(db_sql "SELECT COUNT(*) FROM batch_items WHERE job_id = $J20")"
check_eq "20 keys: completed" completed "$(wait_job "$J20")"
as admin GET "$BATCH/$J20" >/dev/null
check_eq "20 keys: 20 done" 20 "$(jbody .done)"
check_eq "20 keys: none failed" 0 "$(jbody .failed)"
check_eq "20 keys: archive available" true "$(jbody .archive_available)"
check_eq "20 keys: archive until the keys' retention" \
    "$(jbody .key_retention_until)" "$(jbody .archive_available_until)"
check_match "20 keys: retention two days ahead" "^$(date -u -d '+2 days' +%Y-%m-%d)" \
    "$(jbody .key_retention_until)"
check_eq "20 keys: items" 200 "$(as admin GET "$BATCH/$J20/items?limit=50")"
check_eq "20 keys: every item issued with its certificate" 20 \
    "$(jq '[.items[] | select(.status == "issued" and .certificate_id != null
	and (.serial | length) == 32)] | length' "$T_TMP/body")"
check_eq "20 keys: the archive" 200 "$(archive admin "$J20" "$T_TMP/a20")"
check_eq "20 keys: application/zip" application/zip "$(header Content-Type)"
check_match "20 keys: an attachment" 'attachment; filename="batch-[0-9]+\.zip"' \
    "$(header Content-Disposition)"
check "20 keys: unzip -t accepts it" unzip -tq "$T_TMP/$J20.zip"
check_eq "20 keys: 20 PKCS#12 files" 20 "$(find "$T_TMP/a20" -name '*.p12' | wc -l)"
check_eq "20 keys: a passphrase per file" 21 "$(wc -l <"$T_TMP/a20/passphrases.txt")"
check_eq "20 keys: every PKCS#12 opens and verifies" 20 "$(open_all "$T_TMP/a20")"
check_eq "20 keys: distinct names" 20 "$(for f in "$T_TMP"/a20/*.p12; do
	basename "$f"; done | sed 's/^[0-9]*-//' | sort -u | wc -l)"
check "20 keys: named by the placeholder" test -e "$T_TMP/a20/7-bt-$RUN-007.p12"
P7=$(awk -F, '$1 == 7 { print $4 }' "$T_TMP/a20/passphrases.txt" | tr -d '\r')
P8=$(awk -F, '$1 == 8 { print $4 }' "$T_TMP/a20/passphrases.txt" | tr -d '\r')
check_match "20 keys: 24 characters of base64url" '^[A-Za-z0-9_-]{24}$' "$P7"
check_fails "20 keys: another file's passphrase does not open it" \
    openssl pkcs12 -in "$T_TMP/a20/7-bt-$RUN-007.p12" -passin "pass:$P8" -nokeys
openssl pkcs12 -in "$T_TMP/a20/7-bt-$RUN-007.p12" -passin "pass:$P7" -nokeys \
    -clcerts 2>/dev/null | openssl x509 -noout -text >"$T_TMP/seven.txt" 2>&1
check_match "20 keys: CN and fixed O" "Subject: CN ?= ?bt-$RUN-007, O ?= ?Estuary Batch" \
    "$(grep 'Subject:' "$T_TMP/seven.txt")"
check_match "20 keys: the SAN with its placeholder" "DNS:bt-7.example" \
    "$(cat "$T_TMP/seven.txt")"
check_eq "20 keys: the download is audited" 1 "$(audits batch_job download "$J20")"
check_eq "20 keys: 20 certificates issued via batch" 20 \
    "$(db_sql "SELECT COUNT(*) FROM certificates c JOIN batch_items i
	ON i.certificate_id = c.id WHERE i.job_id = $J20
	AND c.issued_via = 'batch' AND c.key_source = 'server'")"
check_eq "20 keys: each issue audited by the worker" 20 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'certificate'
	AND action = 'issue' AND actor_type = 'system'
	AND details LIKE '%\"batch_job_id\":$J20,%'")"
check_eq "20 keys: only the archive stays on disk" "batch-$J20.zip" \
    "$(ls "$BATCH_DIR/$J20")"

# --- one passphrase per batch --------------------------------------------------------
BODY=$(jq -nc --argjson t "$TD" --arg cn "pb-$RUN-{n}" --arg p "batch, \"pass\" $RUN" '{
	template_id: $t, count: 5, subject: {CN: $cn},
	passphrase_mode: "per_batch", passphrase: $p}')
create admin "$BODY"
check_eq "per batch: 202" 202 "$CODE"
JPB=$JOB
check_eq "per batch: completed" completed "$(wait_job "$JPB")"
check_eq "per batch: the archive" 200 "$(archive admin "$JPB" "$T_TMP/apb")"
check_eq "per batch: one passphrase line" "*,*,*,\"batch, \"\"pass\"\" $RUN\"" \
    "$(sed -n 2p "$T_TMP/apb/passphrases.txt" | tr -d '\r')"
check_eq "per batch: every PKCS#12 opens with it" 5 \
    "$(open_all "$T_TMP/apb" "batch, \"pass\" $RUN")"
check_eq "per batch: the passphrase is in no audit row" 0 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'batch_job'
	AND entity_id = $JPB AND details LIKE '%$RUN%'")"
check_eq "per batch: the create row says a passphrase was set" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'batch_job'
	AND entity_id = $JPB AND action = 'create'
	AND details LIKE '%\"passphrase\":\"set\"%'")"
create admin "$(jq -nc --argjson t "$TD" \
    --arg cn "pg-$RUN-{n}" '{template_id: $t, count: 2, subject: {CN: $cn},
	passphrase_mode: "per_batch"}')"
check_eq "per batch, generated: 202" 202 "$CODE"
JPG=$JOB
check_eq "per batch, generated: completed" completed "$(wait_job "$JPG")"
check_eq "per batch, generated: the archive" 200 "$(archive admin "$JPG" "$T_TMP/apg")"
check_match "per batch, generated: one base64url passphrase" '^\*,\*,\*,[A-Za-z0-9_-]{24}$' \
    "$(sed -n 2p "$T_TMP/apg/passphrases.txt" | tr -d '\r')"
check_eq "per batch, generated: both open" 2 "$(open_all "$T_TMP/apg")"

# --- CSV ----------------------------------------------------------------------------
JOBS=$(jobs_count)
ITEMS=$(items_count)
DIRS=$(find "$BATCH_DIR" -mindepth 1 -maxdepth 1 | wc -l)
LONG=$(printf 'x%.0s' {1..65})
printf 'CN,san.dns\r\ncsv-a-%s,a.example\r\n%s,b.example\r\ncsv-c-%s,c.example\r\n' \
    "$RUN" "$LONG" "$RUN" >"$T_TMP/bad.csv"
check_eq "CSV with a bad row: 422" 422 "$(as admin POST $BATCH "$(jq -nc \
    --argjson t "$TD" --rawfile c "$T_TMP/bad.csv" \
    '{template_id: $t, csv: $c, passphrase_mode: "per_certificate"}')")"
check_eq "CSV with a bad row: row and field named" "csv.rows[1].subject.CN" \
    "$(jbody .error.field)"
check_match "CSV with a bad row: the line" "line 3" "$(jbody .error.message)"
printf 'CN,OU\nx,y\n' >"$T_TMP/col.csv"
check_eq "CSV with an unknown column: 422" 422 "$(as admin POST $BATCH "$(jq -nc \
    --argjson t "$TD" --rawfile c "$T_TMP/col.csv" \
    '{template_id: $t, csv: $c, passphrase_mode: "per_certificate"}')")"
check_eq "CSV with an unknown column: the column" "csv.header[1]" "$(jbody .error.field)"
printf 'CN\n"open\n' >"$T_TMP/quote.csv"
check_eq "CSV with an open quote: 422" 422 "$(as admin POST $BATCH "$(jq -nc \
    --argjson t "$TD" --rawfile c "$T_TMP/quote.csv" \
    '{template_id: $t, csv: $c, passphrase_mode: "per_certificate"}')")"
check_eq "CSV with an open quote: field" csv "$(jbody .error.field)"

refuse() { # DESCRIPTION STATUS FIELD JSON
	check_eq "refused ($1): $2" "$2" "$(as admin POST $BATCH "$4")"
	check_eq "refused ($1): field" "$3" "$(jbody .error.field)"
}
B='{"template_id": '$TD', "passphrase_mode": "per_certificate"'
refuse "count and csv" 422 count "$B, \"count\": 1, \"csv\": \"CN\\nx\\n\", \"subject\": {}}"
refuse "neither count nor csv" 422 count "$B}"
refuse "count too large" 422 count "$B, \"count\": 100001, \"subject\": {\"CN\": \"x{n}\"}}"
refuse "count zero" 422 count "$B, \"count\": 0}"
refuse "a bad placeholder" 422 subject.CN "$B, \"count\": 2, \"subject\": {\"CN\": \"x{idx}\"}}"
refuse "a field the template lacks" 422 subject.OU "$B, \"count\": 2, \"subject\": {\"CN\": \"x{n}\", \"OU\": \"y\"}}"
refuse "a fixed field changed" 422 subject.O "$B, \"count\": 2, \"subject\": {\"CN\": \"x{n}\", \"O\": \"Other\"}}"
refuse "a required field missing" 422 subject.CN "$B, \"count\": 2}"
refuse "too long at the last item" 422 subject.CN \
    "$B, \"count\": 100, \"subject\": {\"CN\": \"$(printf 'y%.0s' {1..62}){n}\"}}"
refuse "a passphrase per certificate given" 422 passphrase \
    "$B, \"count\": 1, \"subject\": {\"CN\": \"x\"}, \"passphrase\": \"long enough\"}"
refuse "a short batch passphrase" 422 passphrase \
    "{\"template_id\": $TD, \"passphrase_mode\": \"per_batch\", \"count\": 1, \"subject\": {\"CN\": \"x\"}, \"passphrase\": \"short\"}"
refuse "a template that keeps no key" 422 template_id \
    "{\"template_id\": $TN, \"passphrase_mode\": \"per_batch\", \"count\": 1, \"subject\": {\"CN\": \"x\"}}"
refuse "a key type the template refuses" 422 key_type \
    "$B, \"count\": 1, \"subject\": {\"CN\": \"x\"}, \"key_type\": \"ec-p384\"}"
refuse "an unknown template" 422 template_id \
    "{\"template_id\": 999999999, \"passphrase_mode\": \"per_batch\", \"count\": 1, \"subject\": {\"CN\": \"x\"}}"
refuse "an unknown member" 422 colour "$B, \"count\": 1, \"subject\": {\"CN\": \"x\"}, \"colour\": 1}"
check_eq "refused (text/csv body): 415" 415 "$(as admin POST $BATCH \
    -H 'Content-Type: text/csv' --data-binary @"$T_TMP/bad.csv")"
check_eq "refusals wrote no job" "$JOBS" "$(jobs_count)"
check_eq "refusals wrote no item" "$ITEMS" "$(items_count)"
check_eq "refusals left no directory" "$DIRS" \
    "$(find "$BATCH_DIR" -mindepth 1 -maxdepth 1 | wc -l)"

printf 'CN,san.dns\n"csv, one %s",one.example\ncsv-two-%s,\n"csv ""three"" %s",three.example\n' \
    "$RUN" "$RUN" "$RUN" >"$T_TMP/good.csv"
check_eq "CSV: 202" 202 "$(as admin POST $BATCH "$(jq -nc --argjson t "$TD" \
    --rawfile c "$T_TMP/good.csv" \
    '{template_id: $t, csv: $c, passphrase_mode: "per_certificate"}')")"
JCSV=$(jbody .id)
check_eq "CSV: source" csv "$(jbody .source)"
check_eq "CSV: one item per row" 3 "$(jbody .total)"
check_eq "CSV: completed" completed "$(wait_job "$JCSV")"
check_eq "CSV: the archive" 200 "$(archive admin "$JCSV" "$T_TMP/acsv")"
check_eq "CSV: every PKCS#12 opens" 3 "$(open_all "$T_TMP/acsv")"
F1=$(awk -F, '$1 == 1 { print $2 }' "$T_TMP/acsv/passphrases.txt")
P1=$(awk -F, '$1 == 1 { print $4 }' "$T_TMP/acsv/passphrases.txt" | tr -d '\r')
check_match "CSV: the quoted value with a comma" "CN=csv\\\\, one $RUN" \
    "$(openssl pkcs12 -in "$T_TMP/acsv/$F1" -passin "pass:$P1" -nokeys -clcerts \
	2>/dev/null | openssl x509 -noout -subject -nameopt RFC2253 2>&1)"

# --- cancellation, and an item that fails alone ----------------------------------------
check "cancel: the worker stops" devstack stop worker
BODY=$(jq -nc --argjson t "$TD" --arg cn "cq-$RUN-{n}" \
    '{template_id: $t, count: 50, subject: {CN: $cn}, passphrase_mode: "per_batch"}')
create admin "$BODY"
check_eq "cancel a queued job: 202 on create" 202 "$CODE"
JQ=$JOB
check_eq "cancel a queued job: 200" 200 "$(as admin POST "$BATCH/$JQ/cancel")"
check_eq "cancel a queued job: cancelled at once" cancelled "$(jbody .status)"
check_eq "cancel a queued job: audited" 1 "$(audits batch_job cancel "$JQ")"
check_eq "cancel a queued job: no archive (409)" 409 \
    "$(as admin POST "$BATCH/$JQ/archive" '{}')"
check_eq "cancel it again: 409" 409 "$(as admin POST "$BATCH/$JQ/cancel")"
check_eq "cancel with a body member: 422" 422 \
    "$(as admin POST "$BATCH/$JQ/cancel" '{"now": true}')"

printf 'CN\nfa-1-%s\nfa-2-%s\nfa-3-%s\n' "$RUN" "$RUN" "$RUN" >"$T_TMP/fail.csv"
check_eq "failing item: 202" 202 "$(as admin POST $BATCH "$(jq -nc --argjson t "$TD" \
    --rawfile c "$T_TMP/fail.csv" '{template_id: $t, csv: $c, passphrase_mode: "per_certificate"}')")"
JF=$(jbody .id)
# What a template changed after the check would do to one item.
db_sql "UPDATE batch_items SET subject_values = '{\"subject\":[{\"name\":\"CN\",\"value\":\"$LONG\"}],\"san\":[]}'
    WHERE job_id = $JF AND idx = 2"
create admin "$(jq -nc --argjson t "$TD" \
    --arg cn "cr-$RUN-{n}" '{template_id: $t, count: 300, subject: {CN: $cn},
	passphrase_mode: "per_certificate"}')"
check_eq "running job: 202 on create" 202 "$CODE"
JR=$JOB
check "running job: the worker starts" devstack start worker
check "running job: items get done" wait_done "$JR" 3
code=$(as admin POST "$BATCH/$JR/cancel")
check_match "running job: cancel accepted" '^20[02]$' "$code"
check_match "running job: cancelling" '^cancell(ing|ed)$' "$(jbody .status)"
check_eq "running job: cancelled by the worker" cancelled "$(wait_job "$JR")"
as admin GET "$BATCH/$JR" >/dev/null
DONE=$(jbody .done)
check_match "running job: stopped before the end" '^[0-9]+$' "$DONE"
if [ "${DONE:-300}" -lt 300 ]; then
	t_pass "running job: fewer than 300 issued"
else
	t_fail "running job: fewer than 300 issued" "done $DONE"
fi
check_eq "running job: an archive of what was issued" 200 \
    "$(archive admin "$JR" "$T_TMP/ar")"
check_eq "running job: one PKCS#12 per issued item" "$DONE" \
    "$(find "$T_TMP/ar" -name '*.p12' | wc -l)"
check_eq "running job: the index lists the rest as pending" $((300 - DONE)) \
    "$(grep -c ',pending,' "$T_TMP/ar/index.csv")"
check_eq "failing item: the job completes" completed "$(wait_job "$JF")"
as admin GET "$BATCH/$JF" >/dev/null
check_eq "failing item: two done" 2 "$(jbody .done)"
check_eq "failing item: one failed" 1 "$(jbody .failed)"
check_eq "failing item: listed with its error" 200 \
    "$(as admin GET "$BATCH/$JF/items?status=failed")"
check_eq "failing item: idx 2" 2 "$(jbody '.items[0].idx')"
check_match "failing item: the field in the error" "subject.CN" "$(jbody '.items[0].error')"
check_eq "failing item: items are paginated" 200 "$(as admin GET "$BATCH/$JF/items?limit=1")"
check_match "failing item: a next cursor" '^[A-Za-z0-9_-]+$' "$(jbody .next_cursor)"

# --- a worker killed in the middle of a job ----------------------------------------------
check "crash: the worker stops" devstack stop worker
create admin "$(jq -nc --argjson t "$TD" \
    --arg cn "cx-$RUN-{index:03}" '{template_id: $t, count: 200,
	subject: {CN: $cn}, passphrase_mode: "per_certificate"}')"
check_eq "crash: 202" 202 "$CODE"
JX=$JOB
check "crash: the worker starts" devstack start worker
check "crash: items get done" wait_done "$JX" 10
PID=$(worker_pid)
kill -KILL "$PID" 2>/dev/null
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt $POLLS ]; do
	sleep 0.05
	i=$((i + 1))
done
check_fails "crash: the worker is gone" kill -0 "$PID"
DONE=$(db_sql "SELECT done FROM batch_jobs WHERE id = $JX")
if [ "$DONE" -lt 200 ]; then
	t_pass "crash: killed in the middle ($DONE done)"
else
	t_fail "crash: killed in the middle" "the job had finished"
fi
check_eq "crash: the job still names the dead worker" running \
    "$(db_sql "SELECT status FROM batch_jobs WHERE id = $JX")"
# A crash between an item's commit and its file: the file is missing.
LOST=$(find "$BATCH_DIR/$JX" -name '*.p12' | head -n 1)
check_match "crash: a PKCS#12 on disk" '\.p12$' "$LOST"
rm -f "$LOST"
check "crash: the worker starts again" devstack start worker
check_eq "crash: completed" completed "$(wait_job "$JX")"
check_eq "crash: exactly 200 certificates" 200 \
    "$(db_sql "SELECT COUNT(*) FROM certificates c JOIN batch_items i
	ON i.certificate_id = c.id WHERE i.job_id = $JX")"
check_eq "crash: 200 issued items" 200 \
    "$(db_sql "SELECT COUNT(*) FROM batch_items WHERE job_id = $JX AND status = 'issued'")"
check_eq "crash: no index twice" 200 \
    "$(db_sql "SELECT COUNT(DISTINCT idx) FROM batch_items WHERE job_id = $JX")"
check_eq "crash: 200 issue rows in the audit log, no more" 200 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'certificate'
	AND action = 'issue' AND details LIKE '%\"batch_job_id\":$JX,%'")"
check_eq "crash: the archive" 200 "$(archive admin "$JX" "$T_TMP/ax")"
check_eq "crash: 200 PKCS#12 files in it" 200 "$(find "$T_TMP/ax" -name '*.p12' | wc -l)"
check "crash: the lost file is back" test -s "$T_TMP/ax/$(basename "$LOST")"
check_eq "crash: every PKCS#12 opens and verifies" 200 "$(open_all "$T_TMP/ax")"
check_match "crash: the worker says it resumed" "batch job $JX: resumed from" \
    "$(cat "$ESTUARY_VAR/log/worker.log")"
check_match "crash: and made the lost file again" \
    "batch job $JX: [0-9]+ PKCS#12 files made again" \
    "$(cat "$ESTUARY_VAR/log/worker.log")"

# --- keys and archive past their retention ------------------------------------------------
db_sql "UPDATE certificates SET key_retention_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND
    WHERE id IN (SELECT certificate_id FROM batch_items WHERE job_id = $JPB)"
db_sql "UPDATE batch_jobs SET archive_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND
    WHERE id = $JPB"
check "expiry: estuary-worker --once" "$ESTUARY_SRCDIR/pki/estuary-worker" \
    -c "$ESTUARY_CONF" --once
check_eq "expiry: the archive is gone (410)" 410 "$(as admin POST "$BATCH/$JPB/archive" '{}')"
check_eq "expiry: field" id "$(jbody .error.field)"
as admin GET "$BATCH/$JPB" >/dev/null
check_eq "expiry: not available" false "$(jbody .archive_available)"
check_eq "expiry: every key destroyed" 5 \
    "$(db_sql "SELECT COUNT(*) FROM certificates c JOIN batch_items i
	ON i.certificate_id = c.id WHERE i.job_id = $JPB
	AND c.wrapped_key IS NULL AND c.key_destroyed_at IS NOT NULL")"
check_eq "expiry: archive_path cleared" NULL \
    "$(db_sql "SELECT IFNULL(archive_path, 'NULL') FROM batch_jobs WHERE id = $JPB")"
check_fails "expiry: the job directory is gone" test -e "$BATCH_DIR/$JPB"
check_eq "expiry: the archive's destruction audited" 1 \
    "$(audits batch_job destroy_archive "$JPB")"
C1=$(db_sql "SELECT certificate_id FROM batch_items WHERE job_id = $JPB AND idx = 1")
check_eq "expiry: each key's destruction audited" 1 "$(audits certificate destroy_key "$C1")"
check_eq "expiry: the certificate's PKCS#12 is gone too (410)" 410 \
    "$(as admin POST "/api/v1/certificates/$C1/pkcs12" '{"passphrase": "long enough"}')"
check_eq "expiry: other jobs keep theirs" 200 "$(as admin POST "$BATCH/$J20/archive" '{}')"

# --- permissions -----------------------------------------------------------------------
check_eq "setup: tenant" 201 "$(tenant_post admin "Batch T1 $RUN")"
TID=$(jbody .id)
check_eq "setup: tenant 2" 201 "$(tenant_post admin "Batch T2 $RUN")"
TID2=$(jbody .id)
mkuser() { # WHO ROLE TENANT
	user_post "bat-$1-$RUN" "$PW" "$2" "$3"
}
check_eq "setup: tenant operator" 201 "$(mkuser op tenant_operator "$TID")"
check_eq "setup: tenant auditor" 201 "$(mkuser au tenant_auditor "$TID")"
check_eq "setup: other tenant's admin" 201 "$(mkuser ot tenant_admin "$TID2")"
for who in op au ot; do
	check_eq "setup: $who logs in" 200 "$(session $who "bat-$who-$RUN" "$PW")"
done
BODY=$(jq -nc --argjson t "$TD" --arg cn "op-$RUN-{n}" \
    '{template_id: $t, count: 2, subject: {CN: $cn}, passphrase_mode: "per_batch"}')
create op "$BODY"
check_eq "operator creates: 202" 202 "$CODE"
JOP=$JOB
check_eq "operator's job: in its tenant" "$TID" "$(jbody .tenant_id)"
check_eq "auditor may not create: 403" 403 "$(as au POST $BATCH "$BODY")"
check_eq "auditor reads: 200" 200 "$(as au GET "$BATCH/$JOP")"
as au GET "$BATCH?limit=500" >/dev/null
check_eq "auditor lists it" "$JOP" \
    "$(jq -r --argjson j "$JOP" '.items[] | select(.id == $j) | .id' "$T_TMP/body")"
check_eq "another tenant: 404" 404 "$(as ot GET "$BATCH/$JOP")"
as ot GET "$BATCH?limit=500" >/dev/null
check_eq "another tenant does not list it" "" \
    "$(jq -r --argjson j "$JOP" '.items[] | select(.id == $j) | .id' "$T_TMP/body")"
check_eq "operator's job: completed" completed "$(wait_job "$JOP")"
check_eq "auditor may not download: 403" 403 "$(as au POST "$BATCH/$JOP/archive" '{}')"
check_eq "auditor may not cancel: 403" 403 "$(as au POST "$BATCH/$JOP/cancel")"
check_eq "refused download audited" 1 "$(audits batch_job download "$JOP" denied)"
check_eq "another tenant may not download: 404" 404 "$(as ot POST "$BATCH/$JOP/archive" '{}')"
check_eq "operator downloads: 200" 200 "$(archive op "$JOP" "$T_TMP/aop")"
check_eq "operator's archive opens" 2 "$(open_all "$T_TMP/aop")"
check_eq "list filter by template" 200 "$(as admin GET "$BATCH?template_id=$TD&status=completed&limit=500")"
check_eq "list filter: only that template's completed jobs" 0 \
    "$(jq --argjson t "$TD" '[.items[] | select(.template_id != $t or .status != "completed")] | length' "$T_TMP/body")"
check_eq "unknown job: 404" 404 "$(as admin GET "$BATCH/999999999")"
check_eq "unknown filter: 400" 400 "$(as admin GET "$BATCH?colour=red")"

finish
