#!/bin/bash
#
# The stack's moving parts: the health endpoint follows the signer going
# down and coming back (stopped and started by ./devstack, the way it
# manages every daemon), the signer's journal verifies, the application's
# database account is as weak as it should be, and every daemon runs as
# the user of the privilege split.  Runs against the instance described by
# the ESTUARY_* variables (see lib.sh); it stops and restarts the signer of
# that instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DEVSTACK=$ESTUARY_SRCDIR/devstack
export ESTUARY_VAR

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

# db_app SQL: runs SQL as the application's database account.
db_app() {
	sql_as "$(conf db_user)" "$(conf db_password_file)" "$1"
}

# pid_of COMPONENT: the pid "./devstack status" reports.
pid_of() {
	"$DEVSTACK" status | sed -n "s/^$1: *running (pid \([0-9]*\))$/\1/p"
}

# --- the signer goes away and comes back ------------------------------------------
check_eq "health 200 before" 200 "$(http GET /api/v1/health)"
check "devstack stop signer" "$DEVSTACK" stop signer
check_match "status says the signer stopped" '^signer: +stopped$' \
    "$("$DEVSTACK" status | grep '^signer:')"
check_eq "signer down: health 503" 503 "$(http GET /api/v1/health)"
check_eq "signer down: signer unavailable" unavailable "$(jbody .signer)"
check_eq "signer down: database still ok" ok "$(jbody .database)"
check "devstack start signer" "$DEVSTACK" start signer
check_eq "signer back: health 200" 200 "$(health_until 200)"
check_eq "signer back: signer ok" ok "$(jbody .signer)"

# --- the journal --------------------------------------------------------------------
check "estuaryctl journal verify" ctl journal verify
check_match "journal lists the CA signatures" 'journal OK: ([2-9]|[1-9][0-9]+) entries' \
    "$(ctl journal verify 2>&1)"

# --- the application's database account ----------------------------------------
check "app account can SELECT audit_log" db_app 'SELECT COUNT(*) FROM audit_log'
check_fails "app account cannot UPDATE audit_log" \
    db_app 'UPDATE audit_log SET id = id'
check_match "UPDATE refused by privileges" 'command denied' \
    "$(db_app 'UPDATE audit_log SET id = id' 2>&1)"
check_fails "app account cannot DELETE from audit_log" \
    db_app 'DELETE FROM audit_log'
check_fails "app account cannot CREATE TABLE" \
    db_app 'CREATE TABLE estuary_probe (id INT)'
check_match "CREATE TABLE refused by privileges" 'command denied' \
    "$(db_app 'CREATE TABLE estuary_probe (id INT)' 2>&1)"
check_fails "app account cannot DROP a table" db_app 'DROP TABLE audit_log'
check "app account can read tenants" db_app 'SELECT COUNT(*) FROM tenants'

# --- who runs what ----------------------------------------------------------------
# "./devstack status" names the web server by its own name.
web=${ESTUARY_WEB:-lighttpd}
declare -A want
if [ "${ESTUARY_PRIVSEP:-no}" = yes ]; then
	want=([mariadb]=mysql [signer]=estuary-signer [api]=estuary
	    [est]=estuary [$web]=www-data)
else
	me=$(id -un)
	printf 'note %s\n' "no privilege split: every daemon runs as $me"
	want=([mariadb]=$me [signer]=$me [api]=$me [est]=$me [$web]=$me)
fi
for comp in mariadb signer api est "$web"; do
	pid=$(pid_of "$comp")
	check_match "$comp runs" '^[0-9]+$' "$pid"
	check_eq "$comp runs as ${want[$comp]}" "${want[$comp]}" \
	    "$(ps -o user:32= -p "${pid:-0}" 2>/dev/null | tr -d ' ')"
done
if [ "${ESTUARY_PRIVSEP:-no}" = yes ]; then
	check_eq "FastCGI sockets: mode 0660, group www-data" "660 www-data" \
	    "$(stat -c '%a %G' "$(conf api_socket)")"
	# The signer reads it as root, before dropping privileges.
	check_eq "HSM PIN file: root's alone" "400 root" \
	    "$(stat -c '%a %U' "$(conf hsm_pin_file)")"
	check_fails "the signer's user cannot read the PIN file" \
	    runuser -u estuary-signer -- head -c 1 "$(conf hsm_pin_file)"
	check "the signer's user can read the token store" \
	    runuser -u estuary-signer -- test -r "$ESTUARY_VAR/hsm/softhsm2.conf"
	check_fails "the FastCGI user cannot reach the token store" \
	    runuser -u estuary -- test -r "$ESTUARY_VAR/hsm/softhsm2.conf"
	check_fails "the web server's user cannot read the database password" \
	    runuser -u www-data -- head -c 1 "$(conf db_password_file)"
	check "the FastCGI user can read the database password" \
	    runuser -u estuary -- head -c 1 "$(conf db_password_file)"
fi

# The demo configuration: the Wi-SUN FAN template (TC-12) in the demo
# tenant, made by the bootstrap through the API.
check_eq "demo: admin login" 200 \
    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"
check_eq "demo: tenant" 200 "$(as admin GET "/api/v1/tenants?name=$(jq -rn \
    --arg n "$ESTUARY_DEMO_TENANT" '$n|@uri')")"
DEMO_TENANT=$(jbody '.items[0].id')
WISUN=$(jq -r .name "$ESTUARY_SRCDIR/docs/templates/wisun-fan.json")
check_eq "demo: the Wi-SUN template is listed" 200 \
    "$(as admin GET "/api/v1/cert-templates?name=$(jq -rn --arg n "$WISUN" \
	'$n|@uri')&tenant_id=$DEMO_TENANT")"
WISUN_ID=$(jbody '.items[0].id // empty')
check "demo: the Wi-SUN template exists" test -n "$WISUN_ID"
check_eq "demo: Wi-SUN template read" 200 \
    "$(as admin GET "/api/v1/cert-templates/$WISUN_ID")"
check_eq "demo: Wi-SUN: empty subject, one required hardwareModuleName" \
    "0 1.3.6.1.5.5.7.8.4 hardware_module_name required true" \
    "$(jbody '"\(.subject_fields | length) \(.san_fields[0].othername_oid) \(.san_fields[0].othername_encoding) \(.san_fields[0].rule) \(.san_critical)"')"
check_eq "demo: Wi-SUN: EKU" "clientAuth 1.3.6.1.4.1.45605.1" \
    "$(jbody '.extended_key_usage | join(" ")')"


# --- the EST demo configuration (tools/demo-est.sh) ----------------------------
# demo.env names every variable of issue 6; the files it names exist,
# parse, and the keys are the certificates' and readable by their owner
# only.
for v in ESTUARY_DEMO_DOMAIN ESTUARY_EST_PORT ESTUARY_EST_EC_HOST \
    ESTUARY_EST_RSA_HOST ESTUARY_EST_WISUN_HOST ESTUARY_APP_ID \
    ESTUARY_APP_KEY ESTUARY_APP_CERT ESTUARY_APP_CERT_KEY \
    ESTUARY_FACTORY_EC_CERT ESTUARY_FACTORY_EC_KEY ESTUARY_FACTORY_RSA_CERT \
    ESTUARY_FACTORY_RSA_KEY ESTUARY_OPERATIONAL_EC_CERT \
    ESTUARY_OPERATIONAL_EC_KEY ESTUARY_OPERATIONAL_RSA_CERT \
    ESTUARY_OPERATIONAL_RSA_KEY ESTUARY_EXT_LABEL ESTUARY_EXT_FACTORY_CA_CERT \
    ESTUARY_EXT_FACTORY_CA_KEY; do
	check "demo.env: $v is set" test -n "${!v:-}"
done
check_eq "demo.env: the EST hosts under the demo domain" \
    "est01.$ESTUARY_DEMO_DOMAIN est02.$ESTUARY_DEMO_DOMAIN wisunest01.$ESTUARY_DEMO_DOMAIN" \
    "$ESTUARY_EST_EC_HOST $ESTUARY_EST_RSA_HOST $ESTUARY_EST_WISUN_HOST"
check_eq "demo.env: the EST port is the HTTPS port" "${ESTUARY_URL##*:}" \
    "$ESTUARY_EST_PORT"
check_eq "demo.env: the label ext" ext "$ESTUARY_EXT_LABEL"
check_match "demo.env: an AppID" '^[0-9a-f]{32}$' "$ESTUARY_APP_ID"
check_eq "demo.env: mode 0600" 600 "$(stat -c %a "$ESTUARY_VAR/demo.env")"

# pubkey FILE: the public key of a PEM certificate or private key.
pubkey() {
	if grep -q 'BEGIN CERTIFICATE' "$1" 2>/dev/null; then
		openssl x509 -in "$1" -noout -pubkey
	else
		openssl pkey -in "$1" -pubout
	fi 2>/dev/null
}

# hexfp FILE: SHA-256 of the DER of the PEM certificate FILE, lower hex.
hexfp() {
	openssl x509 -in "$1" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1
}

# keytype FILE: "EC 256" or "RSA 2048" for the key of a certificate.
keytype() {
	openssl x509 -in "$1" -noout -text 2>/dev/null | awk '
	    /Public Key Algorithm: id-ecPublicKey/ { a = "EC" }
	    /Public Key Algorithm: rsaEncryption/ { a = "RSA" }
	    /Public-Key: \(/ { gsub(/[^0-9]/, "", $2); b = $2 }
	    END { print a, b }'
}

for pair in APP_CERT:APP_CERT_KEY:EC FACTORY_EC_CERT:FACTORY_EC_KEY:EC \
    FACTORY_RSA_CERT:FACTORY_RSA_KEY:RSA \
    OPERATIONAL_EC_CERT:OPERATIONAL_EC_KEY:EC \
    OPERATIONAL_RSA_CERT:OPERATIONAL_RSA_KEY:RSA \
    EXT_FACTORY_CA_CERT:EXT_FACTORY_CA_KEY:EC; do
	IFS=: read -r c k alg <<<"$pair"
	c=ESTUARY_$c
	k=ESTUARY_$k
	check "demo: $c is a PEM certificate" \
	    openssl x509 -in "${!c}" -noout
	check "demo: $k is a PEM private key" \
	    openssl pkey -in "${!k}" -noout
	check_eq "demo: $k is mode 0600" 600 "$(stat -c %a "${!k}" 2>&1)"
	check_eq "demo: $k is the key of $c" "$(pubkey "${!c}")" \
	    "$(pubkey "${!k}")"
	if [ "$alg" = EC ]; then
		check_eq "demo: $c: EC P-256" "EC 256" "$(keytype "${!c}")"
	else
		check_eq "demo: $c: RSA 2048" "RSA 2048" "$(keytype "${!c}")"
	fi
done
for f in "EC ESTUARY_FACTORY_EC_CERT" "RSA ESTUARY_FACTORY_RSA_CERT"; do
	read -r a v <<<"$f"
	as admin GET "/api/v1/cas?name=$(jq -rn \
	    --arg n "Estuary Demo Factory CA $a" '$n|@uri')" >/dev/null
	as admin GET "/api/v1/cas/$(jbody '.items[0].id // 0')/download?format=pem" \
	    >/dev/null
	cp "$T_TMP/body" "$T_TMP/factory-ca-$a.pem"
	check "demo: $v chains to the factory CA $a and the demo root" \
	    openssl verify -CAfile "$ESTUARY_ROOT_CA_PEM" \
	    -untrusted "$T_TMP/factory-ca-$a.pem" "${!v}"
done
for v in ESTUARY_OPERATIONAL_EC_CERT ESTUARY_OPERATIONAL_RSA_CERT; do
	check "demo: $v chains to the demo CAs" openssl verify \
	    -CAfile "$ESTUARY_ROOT_CA_PEM" -untrusted "$ESTUARY_ISSUING_CA_PEM" \
	    "${!v}"
	nb=$(date -d "$(openssl x509 -in "${!v}" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "${!v}" -noout -enddate | cut -d= -f2)" +%s)
	check_eq "demo: $v is valid for one day" 86400 "$((na - nb))"
done
check_eq "demo: the external factory CA is self-signed CA:TRUE" \
    "CA:TRUE" "$(openssl x509 -in "$ESTUARY_EXT_FACTORY_CA_CERT" -noout \
	-ext basicConstraints 2>/dev/null | grep -o 'CA:TRUE')"

# The objects, through the API.
check_eq "demo: the organization" 200 "$(as admin GET \
    "/api/v1/organizations?tenant_id=$DEMO_TENANT&name=$(jq -rn \
	--arg n "$ESTUARY_DEMO_ORG" '$n|@uri')")"
DEMO_ORG=$(jbody '.items[0].id')
check_eq "demo: the application" 200 "$(as admin GET \
    "/api/v1/applications?tenant_id=$DEMO_TENANT&name=$(jq -rn \
	--arg n "Demo EST application" '$n|@uri')")"
check_eq "demo: the application is ESTUARY_APP_ID, active" \
    "$ESTUARY_APP_ID true" "$(jbody '.items[0] | "\(.app_id) \(.active)"')"
DEMO_APP=$(jbody '.items[0].id')
check_eq "demo: the application's certificate is ESTUARY_APP_CERT" \
    "$(hexfp "$ESTUARY_APP_CERT")" \
    "$(jbody '.items[0].certificate.fingerprint_sha256')"
check_eq "demo: the AppKey authenticates the application" 200 \
    "$(http GET /api/v1/auth/me -u "$ESTUARY_APP_ID:$ESTUARY_APP_KEY")"
check_eq "demo: ... by HTTP Basic" "$DEMO_APP basic" \
    "$(jbody '"\(.id) \(.auth_method)"')"
check_eq "demo: the application certificate authenticates it" 200 \
    "$(http GET /api/v1/auth/me --cert "$ESTUARY_APP_CERT" \
	--key "$ESTUARY_APP_CERT_KEY")"
check_eq "demo: ... by its certificate" "$DEMO_APP certificate" \
    "$(jbody '"\(.id) \(.auth_method)"')"

# server HOST KIND: the EST server of HOST, checked for what every demo
# server has; leaves its JSON in $T_TMP/HOST.json.
server() {
	local got

	check_eq "demo: $1 listed" 200 \
	    "$(as admin GET "/api/v1/est-servers?domain=$1")"
	jq '.items[0] // {}' "$T_TMP/body" >"$T_TMP/$1.json"
	got=$(jq -r '[.kind, .active, .tenant_id, .org_id, .server_keygen,
	    .auth.device_password, .auth.factory_cert, .auth.app_key,
	    .auth.app_cert, ([.applications[]?.id] | map(tostring) | join(","))]
	    | map(tostring) | join(" ")' "$T_TMP/$1.json")
	check_eq "demo: $1: $2, active, demo org, keygen, all methods, the app" \
	    "$2 true $DEMO_TENANT $DEMO_ORG true true true true true $DEMO_APP" \
	    "$got"
}

# devtype ID: "dar factory_source default-operational-template-key-types"
# of a device type.
devtype() {
	local t

	as admin GET "/api/v1/device-types/$1" >/dev/null
	t=$(jbody '[.operational_templates[] | select(.default)][0].template_id')
	printf '%s %s ' "$(jbody .dar)" "$(jbody .factory_source)"
	as admin GET "/api/v1/cert-templates/$t" >/dev/null
	jbody '.key_types | join(",")'
}

server "$ESTUARY_EST_EC_HOST" dps
EC_TYPE=$(jq -r .device_type_id "$T_TMP/$ESTUARY_EST_EC_HOST.json")
check_eq "demo: est01's device type: DAR, internal factory template, EC P-256" \
    "true internal ec-p256" "$(devtype "$EC_TYPE")"
check_eq "demo: est01's factory template is EC P-256" ec-p256 \
    "$(as admin GET "/api/v1/device-types/$EC_TYPE" >/dev/null &&
	as admin GET "/api/v1/cert-templates/$(jbody .factory_template_id)" \
	    >/dev/null && jbody '.key_types | join(",")')"
check_eq "demo: est01's labels" 200 "$(as admin GET \
    "/api/v1/est-servers/$(jq -r .id "$T_TMP/$ESTUARY_EST_EC_HOST.json")/labels")"
EXT_TYPE=$(jq -r --arg l "$ESTUARY_EXT_LABEL" \
    '.items[] | select(.label == $l) | .device_type_id' "$T_TMP/body")
check_match "demo: est01 has the label ext" '^[0-9]+$' "$EXT_TYPE"
check_eq "demo: the label's device type: DAR, external factory CA, EC P-256" \
    "true external ec-p256" "$(devtype "${EXT_TYPE:-0}")"
as admin GET "/api/v1/device-types/${EXT_TYPE:-0}" >/dev/null
check_eq "demo: the label's external CA is ESTUARY_EXT_FACTORY_CA_CERT, verified" \
    "$(hexfp "$ESTUARY_EXT_FACTORY_CA_CERT") verified true" \
    "$(as admin GET "/api/v1/external-cas/$(jbody .external_ca_id)" >/dev/null &&
	printf '%s\n' "$(jbody .certificate)" >"$T_TMP/ext.pem" &&
	echo "$(hexfp "$T_TMP/ext.pem") $(jbody .status) $(jbody .active)")"
server "$ESTUARY_EST_RSA_HOST" dps
RSA_TYPE=$(jq -r .device_type_id "$T_TMP/$ESTUARY_EST_RSA_HOST.json")
check_eq "demo: est02's device type: internal factory template, RSA 2048" \
    "internal rsa-2048" "$(devtype "$RSA_TYPE" | cut -d' ' -f2-)"
server "$ESTUARY_EST_WISUN_HOST" cms
check_eq "demo: wisunest01 issues from the Wi-SUN template" "$WISUN_ID" \
    "$(jq -r '[.templates[] | select(.default)][0].template_id' \
	"$T_TMP/$ESTUARY_EST_WISUN_HOST.json")"

# device NAME TYPE CERT KIND: the demo device NAME of device type TYPE
# holds the certificate in CERT as its active KIND certificate, and its
# mode follows its certificates (a factory device becomes OPERATIONAL
# only once something enrolled with its factory certificate).
device() {
	local id want

	check_eq "demo: device $1 listed" 200 "$(as admin GET \
	    "/api/v1/devices?tenant_id=$DEMO_TENANT&name=$1")"
	id=$(jbody '.items[0].id // 0')
	check_eq "demo: device $1 read" 200 "$(as admin GET "/api/v1/devices/$id")"
	check_eq "demo: $1: the demo organization and its device type" \
	    "$DEMO_ORG $2" "$(jbody '"\(.org_id) \(.device_type_id)"')"
	check_eq "demo: $1 holds $3 as its active $4 certificate" true \
	    "$(jq -r --arg f "$(hexfp "${!3}")" --arg k "$4" \
		'any(.certificates[]; .fingerprint == $f and .kind == $k and
		.status == "active")' "$T_TMP/body")"
	want=$(jbody 'if any(.certificates[]; .kind == "operational")
	    then "OPERATIONAL" else "FACTORY" end')
	check_eq "demo: $1's mode" "$want" "$(jbody .mode)"
	[ "$4" = operational ] &&
	    check_eq "demo: $1 is OPERATIONAL" OPERATIONAL "$(jbody .mode)"
}
device demo-est01-factory "$EC_TYPE" ESTUARY_FACTORY_EC_CERT factory
device demo-est02-factory "$RSA_TYPE" ESTUARY_FACTORY_RSA_CERT factory
device demo-est01-operational "$EC_TYPE" ESTUARY_OPERATIONAL_EC_CERT operational
device demo-est02-operational "$RSA_TYPE" ESTUARY_OPERATIONAL_RSA_CERT operational

# The web server's certificate covers the demo names: cacerts of each
# server by name, resolved to 127.0.0.1 as the README says.
for h in "$ESTUARY_EST_EC_HOST" "$ESTUARY_EST_RSA_HOST" \
    "$ESTUARY_EST_WISUN_HOST" "$ESTUARY_EST_EC_HOST $ESTUARY_EXT_LABEL"; do
	read -r host label <<<"$h"
	code=$(curl -sS -o "$T_TMP/cacerts" -w '%{http_code}' \
	    --cacert "$ESTUARY_TLS_CA" \
	    --resolve "$host:$ESTUARY_EST_PORT:127.0.0.1" \
	    "https://$host:$ESTUARY_EST_PORT/.well-known/est/${label:+$label/}cacerts" \
	    2>&1)
	check_eq "demo: cacerts of $host${label:+ (label $label)}" 200 "$code"
done

# A second bootstrap keeps everything: no object made, demo.env and every
# demo file unchanged.
before=$(md5sum "$ESTUARY_VAR/demo.env" "$ESTUARY_VAR"/demo/* 2>&1)
out=$(cd "$ESTUARY_SRCDIR" && SRCDIR=$ESTUARY_SRCDIR bash -c '
	set -o pipefail
	. "$SRCDIR/tools/instance.sh" && inst_use "$1" && inst_bootstrap' \
    bootstrap "$ESTUARY_VAR" 2>&1)
check_match "demo: a second bootstrap makes nothing" '\(0 objects made;' "$out"
check_eq "demo: a second bootstrap keeps demo.env and the files" "$before" \
    "$(md5sum "$ESTUARY_VAR/demo.env" "$ESTUARY_VAR"/demo/* 2>&1)"

finish
