#!/bin/bash
#
# EST under concurrency (issue 6, "Concurrency"): zero-touch provisioning
# through the demo configuration's est01 server and its label for the
# device type whose factory CA is external (ESTUARY_EXT_LABEL, DAR on),
# with factory certificates minted here by that CA for devices that do
# not exist yet.  The C client est_load (est_load.c, estload.c) opens a
# new TLS connection per request, presents the factory certificate, sends
# a fresh EC P-256 CSR and checks that the answer is a certs-only PKCS#7
# holding the CSR's key.
#
#  1. 1,000 never-seen devices from 16 parallel clients: every answer a
#     checked 200; exactly 1,000 new devices (the type's, created by EST
#     DAR, OPERATIONAL) and 1,000 new operational certificates, each bound
#     to the device whose factory certificate asked for it (the pairs the
#     clients got are the pairs in the database); one successful
#     enrollment record each, no failure.
#  2. The same devices again, two clients per device sending at the same
#     moment: every answer a checked 200, no new device, two more
#     certificates per device (three each), every certificate a client
#     got distinct and bound to its device.
#  3. 200 other never-seen devices, two clients racing per device (both
#     enrollments may try to create the device: the provisioning core
#     retries the loser as a known device): exactly 200 new devices with
#     two certificates each.
#
# Nothing else enrolls on the private instance meanwhile, so counts over
# the whole tables before and after are exact.  Speed is printed (the
# client's closing lines), never asserted: bench/bench_est measures it.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

LOAD=$ESTUARY_SRCDIR/tests/integration/est_load
N=1000
NRACE=200
CLIENTS=16

# sql_fps QUERY TSV...: runs QUERY as the administrative account with
# @FPS@ replaced by the list of the factory fingerprints in the result
# files (as UNHEX('...') literals), through stdin: the list is long.
sql_fps() {
	local q=$1 list
	shift
	list=$(cut -f2 "$@" | grep -E '^[0-9a-f]{64}$' | sort -u |
	    sed "s/.*/UNHEX('&')/" | paste -sd,)
	printf '%s;\n' "${q//@FPS@/$list}" |
	    db_admin mariadb --batch --raw --skip-column-names \
		"$(conf db_name estuary)"
}

# counts: "devices operational-certificates last-enrollment-id" over the
# whole tables.
counts() {
	db_sql "SELECT (SELECT COUNT(*) FROM devices),
	    (SELECT COUNT(*) FROM certificates WHERE kind = 'operational'),
	    (SELECT COALESCE(MAX(id), 0) FROM est_enrollments)" | tr '\t' ' '
}

# enrollments SINCE: "outcome device_created count" lines of the
# est_enrollments rows after id SINCE.
enrollments() {
	db_sql "SELECT outcome, device_created, COUNT(*) FROM est_enrollments
	    WHERE id > $1 GROUP BY outcome, device_created
	    ORDER BY outcome, device_created" | tr '\t' ' ' | paste -sd';'
}

# bad_answers TSV: the lines that are not a checked 200.
bad_answers() {
	awk -F'\t' '$3 != 200 || $4 == "-"' "$1"
}

# pairs_db TSV...: "factory-fp<TAB>certificate-fp" of every operational
# certificate of the devices in the files, sorted.
pairs_db() {
	sql_fps "SELECT LOWER(HEX(d.factory_cert_fingerprint)),
	    LOWER(HEX(c.fingerprint)) FROM devices d
	    JOIN certificates c ON c.device_id = d.id AND c.kind = 'operational'
	    WHERE d.factory_cert_fingerprint IN (@FPS@)" "$@" | sort
}

# pairs_got TSV...: the same pairs as the clients got them, sorted.
pairs_got() {
	cut -f2,4 "$@" | sort
}

# per_device COUNT TSV...: how many of the files' devices do not have
# exactly COUNT operational certificates (0 expected), and how many
# devices there are: "wrong total".
per_device() {
	local want=$1
	shift
	sql_fps "SELECT COALESCE(SUM(n <> $want), 0), COUNT(*) FROM (
	    SELECT d.id, COUNT(c.id) AS n FROM devices d
	    LEFT JOIN certificates c ON c.device_id = d.id
		AND c.kind = 'operational'
	    WHERE d.factory_cert_fingerprint IN (@FPS@) GROUP BY d.id) x" \
	    "$@" | tr '\t' ' '
}

# check_load DESCRIPTION ARGS...: passes when est_load ARGS exits 0 (every
# request got an answer, and every 200 checked); shows its closing line.
check_load() {
	local desc=$1
	shift
	if "$LOAD" "$@" >"$T_TMP/load.out" 2>&1; then
		t_pass "$desc"
	else
		t_fail "$desc" "$(tail -n 3 "$T_TMP/load.out" | tr '\n' ' ')"
	fi
	tail -n 1 "$T_TMP/load.out" | sed 's/^/     /'
}

# --- preconditions ---------------------------------------------------------------

check "est_load is built" test -x "$LOAD"
check_match "ESTUARY_EST_EC_HOST is a DNS name" '^[a-z0-9.-]+$' \
    "$ESTUARY_EST_EC_HOST"
check_match "ESTUARY_EXT_LABEL is a label" '^[a-z0-9]{3,24}$' \
    "$ESTUARY_EXT_LABEL"
dt=$(db_sql "SELECT l.device_type_id FROM est_labels l
    JOIN est_servers s ON s.id = l.server_id
    WHERE l.domain = '$ESTUARY_EST_EC_HOST'
	AND l.label = '$ESTUARY_EXT_LABEL' AND s.active")
check_match "the label names a device type" '^[0-9]+$' "$dt"
# The expectations below (every answer 200, re-provisioning allowed)
# hold for this configuration of the demo's device type.
check_eq "its device type: DAR on, factory mode not enforced, external CA" \
    "1	0	external" \
    "$(db_sql "SELECT dar, enforce_factory_mode, factory_source
	FROM device_types WHERE id = ${dt:-0}")"

# --- 1. 1,000 never-seen devices from 16 clients ----------------------------------

check "mint $N factory certificates" \
    "$LOAD" mint -n "$N" -o "$T_TMP/devs.pem"
read -r dev0 cert0 enr0 <<<"$(counts)"
check_load "$N devices enroll from $CLIENTS clients, every request answered" \
    enroll -i "$T_TMP/devs.pem" -c "$CLIENTS" -x 1 \
	-o "$T_TMP/r1.tsv"
check_eq "$N answers" "$N" "$(wc -l <"$T_TMP/r1.tsv")"
check_eq "every answer a 200 with the CSR's key in a certs-only PKCS#7" \
    "" "$(bad_answers "$T_TMP/r1.tsv" | head -n 3)"
check_eq "$N distinct certificates" "$N" \
    "$(cut -f4 "$T_TMP/r1.tsv" | sort -u | wc -l)"
read -r dev1 cert1 enr1 <<<"$(counts)"
check_eq "exactly $N new devices" "$N" "$((dev1 - dev0))"
check_eq "exactly $N new operational certificates" "$N" "$((cert1 - cert0))"
check_eq "the new devices: the label's type, EST DAR, OPERATIONAL" "$N" \
    "$(sql_fps "SELECT COUNT(*) FROM devices
	WHERE factory_cert_fingerprint IN (@FPS@) AND device_type_id = $dt
	AND created_via = 'est-dar' AND mode = 'OPERATIONAL'" \
	"$T_TMP/r1.tsv")"
check_eq "each certificate bound to the device that asked for it" \
    "$(pairs_got "$T_TMP/r1.tsv")" "$(pairs_db "$T_TMP/r1.tsv")"
check_eq "one certificate per device" "0 $N" \
    "$(per_device 1 "$T_TMP/r1.tsv")"
check_eq "$N successful enrollments recorded, each creating its device" \
    "success 1 $N" "$(enrollments "$enr0")"

# --- 2. the same devices, two clients racing per device ---------------------------

check_load "the same $N devices, two clients per device at once" \
    enroll -i "$T_TMP/devs.pem" -c "$CLIENTS" -x 2 \
	-o "$T_TMP/r2.tsv"
check_eq "$((2 * N)) answers" "$((2 * N))" "$(wc -l <"$T_TMP/r2.tsv")"
check_eq "every answer a checked 200" "" \
    "$(bad_answers "$T_TMP/r2.tsv" | head -n 3)"
read -r dev2 cert2 enr2 <<<"$(counts)"
check_eq "no new device" "$dev1" "$dev2"
check_eq "$((2 * N)) new operational certificates" "$((2 * N))" "$((cert2 - cert1))"
check_eq "every certificate the clients got is distinct" "$((3 * N))" \
    "$(cut -f4 "$T_TMP/r1.tsv" "$T_TMP/r2.tsv" | sort -u | wc -l)"
check_eq "three certificates per device" "0 $N" \
    "$(per_device 3 "$T_TMP/r1.tsv")"
check_eq "each bound to the device that asked for it" \
    "$(pairs_got "$T_TMP/r1.tsv" "$T_TMP/r2.tsv")" \
    "$(pairs_db "$T_TMP/r1.tsv")"
check_eq "$((2 * N)) successful re-provisionings recorded" \
    "success 0 $((2 * N))" "$(enrollments "$enr1")"

# --- 3. never-seen devices, two clients racing per device -------------------------

check "mint $NRACE more factory certificates" \
    "$LOAD" mint -n "$NRACE" -o "$T_TMP/race.pem"
check_load "$NRACE never-seen devices, two clients per device at once" \
    enroll -i "$T_TMP/race.pem" -c "$CLIENTS" -x 2 \
	-o "$T_TMP/r3.tsv"
check_eq "every answer a checked 200" "" \
    "$(bad_answers "$T_TMP/r3.tsv" | head -n 3)"
read -r dev3 cert3 _ <<<"$(counts)"
check_eq "exactly $NRACE new devices" "$NRACE" "$((dev3 - dev2))"
check_eq "$((2 * NRACE)) new operational certificates" "$((2 * NRACE))" \
    "$((cert3 - cert2))"
check_eq "two certificates per device" "0 $NRACE" \
    "$(per_device 2 "$T_TMP/r3.tsv")"
check_eq "each bound to the device that asked for it" \
    "$(pairs_got "$T_TMP/r3.tsv")" "$(pairs_db "$T_TMP/r3.tsv")"
check_eq "one enrollment per device created it, the other re-provisioned" \
    "success 0 $NRACE;success 1 $NRACE" "$(enrollments "$enr2")"

finish
