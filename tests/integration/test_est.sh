#!/bin/bash
# shellcheck disable=SC2016 # jq programs name their $variables in single quotes
#
# The EST endpoints of estuary-est (RFC 7030 with RFC 8951, fcgi/est.h)
# as EST clients see them over HTTPS, each request sent to an EST domain
# resolved to 127.0.0.1 (curl --resolve): the guide's test cases
# (§2.3.7.5.1, TC-01 to TC-13) and the Azure IoT Identity Service cases
# (§2.3.7.5.2) as their HTTP exchanges, each answer checked (the chain
# verifies against cacerts, key type and size, subject, the device it is
# bound to and the device's mode afterwards); the zero-touch flow with an
# external factory CA under a label (auto-registration, re-provisioning
# onto the same record, Enforce Factory Mode, a disabled device); device
# ID/password; the libest exchange (a first request without credentials
# gets the Basic challenge); csrattrs; refusals (bad input of every kind,
# unknown domains and labels, Host header injection, methods and server
# key generation disabled on the server, an address outside the allow
# list) each with its status and nothing written; keep-alive and
# Connection: close; TLS 1.2 and 1.3.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ES=/api/v1/est-servers
DEV=/api/v1/devices
DT=/api/v1/device-types
APPS=/api/v1/applications
T1="EST T1 $RUN"
O1="EST O1 $RUN"
T2="EST T2 $RUN"
HOSTPORT=${ESTUARY_URL#https://}
PORT=${HOSTPORT##*:}
# The instance's TLS certificate covers *.estuary.test.
E1="e1$RUN.estuary.test"  # dps, EC P-256 (the guide's est01), label ext
E2="e2$RUN.estuary.test"  # dps, RSA 2048 (est02)
W1="w1$RUN.estuary.test"  # cms, a Wi-SUN-like template (wisunest01)
N1="n1$RUN.estuary.test"  # dps, app key only, no server key generation
N2="n2$RUN.estuary.test"  # dps, an allow list without loopback
D=$T_TMP/pki
mkdir -p "$D"

# est METHOD HOST PATH [curl options...]: an EST request to
# https://HOST/.well-known/est/PATH over loopback; prints the status, the
# body and headers are left as http leaves them.
est() {
	local method=$1 host=$2 path=$3

	shift 3
	curl -sS -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' \
	    --cacert "$ESTUARY_TLS_CA" --resolve "$host:$PORT:127.0.0.1" \
	    -X "$method" "$@" "https://$host:$PORT/.well-known/est/$path"
}

# enroll HOST PATH CSR-NAME [curl options...]: POSTs $D/CSR-NAME.b64 as
# application/pkcs10; prints the status.
enroll() {
	local host=$1 path=$2 csr=$3

	shift 3
	est POST "$host" "$path" -H 'Content-Type: application/pkcs10' \
	    --data-binary @"$D/$csr.b64" "$@"
}

# key NAME SUBJECT [TYPE]: a key (ec or rsa, ec by default) and CSR in
# $D/NAME.key and NAME.csr, and the CSR as EST sends it in NAME.b64
# (base64 of DER in 64-column lines with a trailing newline).
key() {
	csr_new "$D/$1" "$2" "$3" &&
	    openssl req -in "$D/$1.csr" -outform DER | base64 -w 64 >"$D/$1.b64"
}

# leaf FILE: the certificates of the last answer's certs-only body, PEM,
# into FILE; fails when the body is not one.
leaf() {
	base64 -d "$T_TMP/body" >"$T_TMP/p7.der" 2>/dev/null &&
	    openssl pkcs7 -inform DER -in "$T_TMP/p7.der" -print_certs \
		-out "$1" 2>/dev/null && grep -q 'BEGIN CERTIFICATE' "$1"
}

# mpart N: part N (1: the key, 2: the certificate) of the last
# multipart/mixed answer, its base64 decoded, on stdout.
mpart() {
	local b

	b=$(header Content-Type | sed -n 's/^multipart\/mixed; boundary=//p')
	[ -n "$b" ] || return 1
	awk -v b="--$b" -v want="$1" '
		{ sub(/\r$/, "") }
		index($0, b) == 1 { n++; hdr = 1; next }
		n == want && hdr && $0 == "" { hdr = 0; next }
		n == want && !hdr { print }' "$T_TMP/body" | base64 -d
}

# keygen_split KEY-FILE CERT-FILE: the key (PEM) and the certificate (PEM)
# of the last serverkeygen answer.
keygen_split() {
	mpart 1 | openssl pkey -inform DER -out "$1" 2>/dev/null &&
	    mpart 2 >"$T_TMP/p7.der" &&
	    openssl pkcs7 -inform DER -in "$T_TMP/p7.der" -print_certs \
		-out "$2" 2>/dev/null && grep -q 'BEGIN CERTIFICATE' "$2"
}

# keyinfo FILE: the key of the certificate in FILE, "EC 256 prime256v1"
# or "RSA 2048".
keyinfo() {
	openssl x509 -in "$1" -noout -text 2>/dev/null | awk '
		/Public Key Algorithm: id-ecPublicKey/ { t = "EC" }
		/Public Key Algorithm: rsaEncryption/ { t = "RSA" }
		/Public-Key: \(/ { gsub(/[()]/, ""); b = $2 }
		/ASN1 OID:/ { c = " " $3 }
		END { print t " " b c }'
}

# bound FILE: "device-id kind" of the certificate in FILE.
bound() {
	db_sql "SELECT CONCAT_WS(' ', IFNULL(device_id, 'none'), kind)
	    FROM certificates WHERE fingerprint = UNHEX('$(hexfp "$1")')"
}

# mode ID: the mode of device ID, through the API.
mode() {
	as admin GET "$DEV/$1" >/dev/null && jbody .mode
}

# counts: devices and certificates, as one string.
counts() {
	nrows devices certificates
}

# cacerts HOST [LABEL]: the host's chain into $D/HOST.chain.pem.
cacerts() {
	local path=cacerts

	[ -n "$2" ] && path="$2/cacerts"
	est GET "$1" "$path" >/dev/null && leaf "$D/$1${2:+-$2}.chain.pem"
}

# verifies FILE HOST [LABEL]: FILE chains to HOST's cacerts.
verifies() {
	openssl verify -CAfile "$D/$2${3:+-$3}.chain.pem" "$1"
}

# --- setup ---------------------------------------------------------------------------
tenant_add "$T1" "$O1"
tenant_add "$T2"
TID1=$(tid_of "$T1")
OID1=$(oid_of "$O1")
admin_session
FCA=$(ca_add "EST factory CA $RUN" "$D/fca.pem")
OCA=$(ca_add "EST operational CA $RUN" "$D/oca.pem")
RCA=$(ca_add "EST RSA CA $RUN" "$D/rca.pem" rsa-2048)
WROOT=$(ca_add "EST Wi-SUN root $RUN" "$D/wroot.pem")
WCA=$(ca_add "EST Wi-SUN CA $RUN" "$D/wca.pem" ec-p256 3000 \
    "EST Wi-SUN root $RUN")
check_match "setup: five CAs, one an intermediate" '^([0-9]+ ){4}[0-9]+$' \
    "$FCA $OCA $RCA $WROOT $WCA"

# tpl NAME TYPE CA KEY-TYPES KEYGEN-TYPE FIELDS: a tenant T1 template with
# server key generation (no key kept); prints its id and leaves its JSON
# in $T_TMP/NAME.json.
tpl() {
	tpl_add "$1 $RUN" "$2" "$3" "$6" "$(jq -nc --argjson kt "$4" \
	    --arg kg "$5" --argjson tid "$TID1" '{scope: "tenant",
	    tenant_id: $tid, key_types: $kt, server_keygen: true,
	    keygen_key_type: $kg, key_retention_days: 0}')"
	jq -c . "$T_TMP/body" >"$T_TMP/$1.json"
}
CN_O='[{"attribute": "CN", "rule": "required", "max_length": 64},
    {"attribute": "O", "rule": "optional", "max_length": 64}]'
FT=$(tpl factory factory "$FCA" '["ec-p256", "rsa-2048"]' ec-p256 "$CN_O")
OTE=$(tpl opec operational "$OCA" '["ec-p256"]' ec-p256 "$CN_O")
OTR=$(tpl oprsa operational "$RCA" '["rsa-2048"]' rsa-2048 "$CN_O")
WT=$(tpl wisun general "$WCA" '["ec-p256"]' ec-p256 \
    '[{"attribute": "CN", "rule": "optional", "max_length": 64},
      {"attribute": "O", "rule": "fixed", "default_value": "Wi-SUN Alliance",
       "max_length": 64}]')
check_match "setup: templates" '^([0-9]+ ){3}[0-9]+$' "$FT $OTE $OTR $WT"
fid() {
	field_id "$T_TMP/$1.json" "$2"
}

# devtype NAME OP-TEMPLATE OP-JSON-NAME [JQ-FILTER]: an internal-factory
# device type of O1 mapping CN <- DeviceName on both templates, DAR on,
# device ID/password on; prints its id.
devtype() {
	as admin POST "$DT" "$(jq -nc --arg n "$1 $RUN" --argjson o "$OID1" \
	    --argjson ot "$2" --argjson ft "$FT" --argjson fcn "$(fid factory CN)" \
	    --argjson ocn "$(fid "$3" CN)" "{
	    name: \$n, org_id: \$o, dar: true, use_cert_mapping: true,
	    operational_templates: [{template_id: \$ot, default: true}],
	    factory_source: \"internal\", factory_template_id: \$ft,
	    mappings: [{subject_field_id: \$fcn, source: \"device_name\"},
		{subject_field_id: \$ocn, source: \"device_name\"}],
	    device_password_enabled: true, password_retention_hours: 1} |
	    ${4:-.}")" >/dev/null
	jbody .id
}
DTE=$(devtype "EST EC" "$OTE" opec)
DTR=$(devtype "EST RSA" "$OTR" oprsa)
check_match "setup: device types" '^[0-9]+ [0-9]+$' "$DTE $DTR"

# An external factory CA made by openssl, registered as verified, and a
# device type trusting it with DAR and Enforce Factory Mode.
x509_ca "$D/ext-ca" "/CN=EST ext CA $RUN" ||
    { echo "cannot make the CA"; exit 1; }
# extleaf NAME: a factory certificate of the external CA, $D/NAME.pem.
extleaf() {
	key "$1" "/CN=$1 $RUN" && x509_sign "$D/$1" "$D/ext-ca" client_ext
}
check_eq "setup: the external CA" 201 \
    "$(extca_add "EST ext $RUN" "$D/ext-ca.pem" "$TID1" "$OID1")"
EXTCA=$(jbody .id)
check_eq "setup: a device type with the external factory CA" 201 \
    "$(devtype_ext "EST external $RUN" "$EXTCA" "$OTE" \
	"$(jq -nc --argjson o "$OID1" '{org_id: $o, dar: true,
	enforce_factory_mode: true}')")"
DTX=$(jbody .id)

# The factory application: AppID:AppKey, and its TLS certificate.
APP=$(app_add "$T1" tenant_operator "EST app $RUN")
APPID=${APP%%	*}
APPKEY=${APP#*	}
AID=$(app_rowid "$APP")
APP2=$(app_add "$T2" tenant_operator "EST app T2 $RUN")
check_eq "setup: the application's certificate" 201 \
    "$(as admin POST "$APPS/$AID/certificate" '{"validity_days": 30}')"
check_eq "setup: its PKCS#12" 200 "$(as admin POST "$APPS/$AID/certificate/pfx" \
    '{"passphrase": "est-test-passphrase"}')"
openssl pkcs12 -in "$T_TMP/body" -passin pass:est-test-passphrase -nodes \
    -nocerts -out "$D/app.key" 2>/dev/null
openssl pkcs12 -in "$T_TMP/body" -passin pass:est-test-passphrase \
    -clcerts -nokeys -out "$D/app.pem" 2>/dev/null
check "setup: the application's certificate and key" \
    openssl x509 -in "$D/app.pem" -noout

# server DOMAIN KIND-JSON: an EST server of O1; prints its id.
server() {
	as admin POST "$ES" "$(jq -nc --arg d "$1" --argjson o "$OID1" \
	    --argjson k "$2" '{domain: $d, org_id: $o, server_keygen: true,
	    auth: {device_password: true, factory_cert: true, app_key: true,
		   app_cert: true}} + $k')" >/dev/null
	jbody .id
}
S1=$(server "$E1" "$(jq -nc --argjson t "$DTE" '{kind: "dps", device_type_id: $t}')")
S2=$(server "$E2" "$(jq -nc --argjson t "$DTR" '{kind: "dps", device_type_id: $t}')")
SW=$(server "$W1" "$(jq -nc --argjson t "$WT" --argjson a "$AID" '{kind: "cms",
    templates: [{template_id: $t, default: true}], applications: [{id: $a}],
    auth: {app_key: true, app_cert: true}}')")
SN1=$(server "$N1" "$(jq -nc --argjson t "$DTE" '{kind: "dps",
    device_type_id: $t, server_keygen: false, auth: {app_key: true}}')")
SN2=$(server "$N2" "$(jq -nc --argjson t "$DTE" '{kind: "dps",
    device_type_id: $t, ip_allow: ["192.0.2.0/24", "2001:db8::/32"]}')")
check_match "setup: EST servers" '^([0-9]+ ){4}[0-9]+$' "$S1 $S2 $SW $SN1 $SN2"
check_eq "setup: the label ext on $E1" 201 "$(as admin POST "$ES/$S1/labels" \
    "$(jq -nc --argjson t "$DTX" '{label: "ext", device_type_id: $t}')")"

# Factory certificates: mint NAME [rsa] issues one of the factory
# template for a device NAME that does not exist yet (TC-03/04 make the
# device first: see below).
mint() {
	key "$1" "/CN=$1" "${2:-ec}" &&
	    cert_pem "$FT" "$D/$1.csr" "$D/$1.pem"
}
# device NAME TYPE [rsa]: a device of O1 with a factory certificate
# (CSR of a new key) and the password "pw-NAME"; $D/NAME.pem and .key,
# prints its id.
device() {
	key "$1" "/CN=$1" "${3:-ec}" &&
	    as admin POST "$DEV" "$(jq -nc --arg n "$1" --argjson o "$OID1" \
		--argjson t "$2" --rawfile c "$D/$1.csr" '{name: $n,
		org_id: $o, device_type_id: $t, password: ("pw-" + $n),
		factory_certificate: {csr: $c}}')" >/dev/null &&
	    jq -r '[.certificates[] | select(.kind == "factory")][0].pem' \
		"$T_TMP/body" >"$D/$1.pem" && jbody .id
}
DEVE="deve-$RUN"
DEVR="devr-$RUN"
IDE=$(device "$DEVE" "$DTE")
IDR=$(device "$DEVR" "$DTR" rsa)
check_match "setup: two devices with factory certificates" '^[0-9]+ [0-9]+$' \
    "$IDE $IDR"
check_eq "setup: both in FACTORY mode" "FACTORY FACTORY" \
    "$(mode "$IDE") $(mode "$IDR")"
extleaf ext1

# The web server exports a client certificate only when it verifies
# against its client-CA file: rewrite it, and wait (bounded) until the
# factory certificates of both CAs and the application's come through.
# The probe is a re-enrollment, which refuses a factory certificate (403)
# and never writes a certificate; without the certificate it is 401.
check "setup: the client-CA file" ctl tls client-ca --reload
key probe "/CN=probe"
ready=no
for _ in $(seq 1 100); do
	a=$(enroll "$E1" simplereenroll probe --cert "$D/$DEVE.pem" --key "$D/$DEVE.key")
	b=$(enroll "$E1" ext/simplereenroll probe --cert "$D/ext1.pem" --key "$D/ext1.key")
	if [ "$a $b" = "403 403" ]; then
		ready=yes
		break
	fi
	sleep 0.1
done
check_eq "setup: the web server passes the client certificates" yes "$ready"

# --- cacerts and csrattrs -------------------------------------------------------------
check_eq "cacerts: 200" 200 "$(est GET "$E1" cacerts)"
check_eq "cacerts: Content-Type" "application/pkcs7-mime; smime-type=certs-only" \
    "$(header Content-Type)"
check_eq "cacerts: Content-Transfer-Encoding" base64 \
    "$(header Content-Transfer-Encoding)"
check "cacerts: a certs-only PKCS#7" leaf "$D/$E1.chain.pem"
check_eq "cacerts of $E1: the EC operational CA" "$(hexfp "$D/oca.pem")" \
    "$(hexfp "$D/$E1.chain.pem")"
check "cacerts of $E2" cacerts "$E2"
check_eq "cacerts of $E2: the RSA CA" "$(hexfp "$D/rca.pem")" \
    "$(hexfp "$D/$E2.chain.pem")"
check "cacerts of $W1" cacerts "$W1"
check_match "cacerts: a SignedData without signers" 'signer_info: *<EMPTY>' \
    "$(openssl pkcs7 -inform DER -in "$T_TMP/p7.der" -print 2>/dev/null |
    tr -s ' \n' ' ')"
awk -v d="$D" '/-----BEGIN CERTIFICATE-----/ { n++ }
	n { print > (d "/w1-cert" n ".pem") }' "$D/$W1.chain.pem"
check_eq "cacerts of $W1: two certificates, the issuing CA first, the root last" \
    "2 $(hexfp "$D/wca.pem") $(hexfp "$D/wroot.pem")" \
    "$(grep -c 'BEGIN CERTIFICATE' "$D/$W1.chain.pem") $(hexfp "$D/w1-cert1.pem") $(hexfp "$D/w1-cert2.pem")"
check "cacerts of $W1: the chain verifies" openssl verify \
    -CAfile "$D/wroot.pem" -untrusted "$D/$W1.chain.pem" "$D/w1-cert1.pem"
check_fails "cacerts of $W1: not against another root" openssl verify \
    -CAfile "$D/oca.pem" "$D/w1-cert1.pem"
check "cacerts of $E1/ext" cacerts "$E1" ext
check_eq "TC-11: cacerts with HTTP Basic credentials: 200" 200 \
    "$(est GET "$E2" cacerts -u "$APPID:$APPKEY")"
check_eq "cacerts: upper-case host with a port" 200 \
    "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	--resolve "$E1:$PORT:127.0.0.1" -H "Host: ${E1^^}:$PORT" \
	"https://$E1:$PORT/.well-known/est/cacerts")"
check_eq "csrattrs: 200" 200 "$(est GET "$W1" csrattrs)"
check_eq "csrattrs: application/csrattrs" application/csrattrs \
    "$(header Content-Type)"
check_match "csrattrs: EC P-256 only, no CN (optional)" \
    'prime256v1' "$(base64 -d "$T_TMP/body" | openssl asn1parse -inform DER)"
check_eq "csrattrs of $E1: the mapped CN is not asked for; the curve is" 200 \
    "$(est GET "$E1" csrattrs)"
check_fails "csrattrs of $E1: no commonName" grep -q commonName \
    <(base64 -d "$T_TMP/body" | openssl asn1parse -inform DER)

# --- TC-01, TC-02: an application's AppID:AppKey (HTTP Basic) -------------------
n=$(counts)
key tc01 "/CN=myclient" rsa
check_eq "libest: a first request without credentials: 401" 401 \
    "$(enroll "$E2" simpleenroll tc01)"
check_eq "libest: the Basic challenge" 'Basic realm="estuary"' \
    "$(header WWW-Authenticate)"
check_eq "libest: 401 is text/plain" text/plain \
    "$(header Content-Type | cut -d';' -f1)"
check_eq "the 401 wrote nothing" "$n" "$(counts)"
check_eq "TC-01: RSA 2048 with AppID:AppKey on $E2: 200" 200 \
    "$(enroll "$E2" simpleenroll tc01 -u "$APPID:$APPKEY")"
check_eq "TC-01: certs-only" "application/pkcs7-mime; smime-type=certs-only" \
    "$(header Content-Type)"
check "TC-01: one certificate" leaf "$D/tc01.pem"
check "TC-01: the chain verifies" verifies "$D/tc01.pem" "$E2"
check_eq "TC-01: RSA 2048" "RSA 2048" "$(keyinfo "$D/tc01.pem")"
check_eq "TC-01: the CSR's subject" "CN=myclient" "$(subject "$D/tc01.pem")"
check_eq "TC-01: the CSR's key" "$(openssl pkey -in "$D/tc01.key" -pubout)" \
    "$(openssl x509 -in "$D/tc01.pem" -noout -pubkey)"
check_eq "TC-01: bound to no device" "none operational" "$(bound "$D/tc01.pem")"
check_eq "TC-01: issued by the application through EST" "est application $AID $TID1 $OID1" \
    "$(db_sql "SELECT CONCAT_WS(' ', issued_via, created_by_type,
	created_by_app_id, tenant_id, org_id) FROM certificates
	WHERE fingerprint = UNHEX('$(hexfp "$D/tc01.pem")')")"
check_eq "TC-01: recorded and audited" "1 1" \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE server_id = $S2
	AND app_id = $AID AND auth_method = 'app_key' AND outcome = 'success'
	AND operation = 'simpleenroll' AND domain = '$E2'") $(db_sql "SELECT
	COUNT(*) FROM audit_log WHERE actor_type = 'application'
	AND actor_id = $AID AND entity = 'certificate' AND action = 'issue'
	AND outcome = 'success' AND details LIKE '%\"method\":\"app_key\"%'")"
key tc02 "/CN=myclientec/O=Factory Line 2"
check_eq "TC-02: EC P-256 with AppID:AppKey on $E1: 200" 200 \
    "$(enroll "$E1" simpleenroll tc02 -u "$APPID:$APPKEY")"
leaf "$D/tc02.pem"
check "TC-02: the chain verifies" verifies "$D/tc02.pem" "$E1"
check_eq "TC-02: EC P-256" "EC 256 prime256v1" "$(keyinfo "$D/tc02.pem")"
check_eq "TC-02: the CSR's subject" "O=Factory Line 2,CN=myclientec" \
    "$(subject "$D/tc02.pem")"
check_eq "TC-02 with an RSA key on the EC server: 422, nothing issued" \
    "422 $(counts)" "$(enroll "$E1" simpleenroll tc01 -u "$APPID:$APPKEY") $(counts)"
check_eq "a wrong AppKey: 401 with the challenge" "401 Basic" \
    "$(enroll "$E1" simpleenroll tc02 -u "$APPID:wrong$APPKEY") $(header WWW-Authenticate | cut -d' ' -f1)"
check_eq "an application of another tenant: 403" 403 \
    "$(enroll "$E1" simpleenroll tc02 -u "${APP2%%	*}:${APP2#*	}")"

# --- TC-03, TC-04: a factory certificate (TLS) --------------------------------------
key tc03 "/CN=myclient" rsa
check_eq "TC-03: RSA with the factory certificate on $E2: 200" 200 \
    "$(enroll "$E2" simpleenroll tc03 --cert "$D/$DEVR.pem" --key "$D/$DEVR.key")"
leaf "$D/tc03.pem"
cp "$D/tc03.key" "$D/tc03-op.key"
check "TC-03: the chain verifies" verifies "$D/tc03.pem" "$E2"
check_eq "TC-03: RSA 2048" "RSA 2048" "$(keyinfo "$D/tc03.pem")"
check_eq "TC-03: CN from the device's name (mapping)" "CN=$DEVR" \
    "$(subject "$D/tc03.pem")"
check_eq "TC-03: bound to the device, which is OPERATIONAL" \
    "$IDR operational OPERATIONAL" "$(bound "$D/tc03.pem") $(mode "$IDR")"
key tc04 "/CN=ignored"
check_eq "TC-04: EC with the factory certificate on $E1: 200" 200 \
    "$(enroll "$E1" simpleenroll tc04 --cert "$D/$DEVE.pem" --key "$D/$DEVE.key")"
leaf "$D/tc04.pem"
check "TC-04: the chain verifies" verifies "$D/tc04.pem" "$E1"
check_eq "TC-04: EC P-256" "EC 256 prime256v1" "$(keyinfo "$D/tc04.pem")"
check_eq "TC-04: CN from the device's name" "CN=$DEVE" "$(subject "$D/tc04.pem")"
check_eq "TC-04: bound to the device, OPERATIONAL" "$IDE operational OPERATIONAL" \
    "$(bound "$D/tc04.pem") $(mode "$IDE")"
check_eq "TC-04: recorded with the server and method" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE server_id = $S1
	AND device_id = $IDE AND auth_method = 'factory_cert'
	AND outcome = 'success'")"
check_eq "the RSA device's factory certificate on the EC server: 403" 403 \
    "$(enroll "$E1" simpleenroll tc04 --cert "$D/$DEVR.pem" --key "$D/$DEVR.key")"

# --- TC-05, TC-06: re-enrollment with the operational certificate ---------------
key tc05 "/CN=myclient" rsa
check_eq "TC-05: RSA re-enrollment on $E2: 200" 200 \
    "$(enroll "$E2" simplereenroll tc05 --cert "$D/tc03.pem" --key "$D/tc03-op.key")"
leaf "$D/tc05.pem"
check "TC-05: the chain verifies" verifies "$D/tc05.pem" "$E2"
check_eq "TC-05: the subject is kept" "$(subject "$D/tc03.pem")" \
    "$(subject "$D/tc05.pem")"
check_eq "TC-05: the new key" "$(openssl pkey -in "$D/tc05.key" -pubout)" \
    "$(openssl x509 -in "$D/tc05.pem" -noout -pubkey)"
check_eq "TC-05: the same device" "$IDR operational" "$(bound "$D/tc05.pem")"
key tc06 "/CN=ignored"
check_eq "TC-06: EC re-enrollment on $E1: 200" 200 \
    "$(enroll "$E1" simplereenroll tc06 --cert "$D/tc04.pem" --key "$D/tc04.key")"
leaf "$D/tc06.pem"
check_eq "TC-06: EC P-256, the subject kept, renewed_from" \
    "EC 256 prime256v1 CN=$DEVE 1" \
    "$(keyinfo "$D/tc06.pem") $(subject "$D/tc06.pem") $(db_sql "SELECT
	COUNT(*) FROM certificates n JOIN certificates o ON o.id = n.renewed_from_id
	WHERE n.fingerprint = UNHEX('$(hexfp "$D/tc06.pem")')
	AND o.fingerprint = UNHEX('$(hexfp "$D/tc04.pem")')")"
check_eq "re-enrollment with the other server's certificate: 403" 403 \
    "$(enroll "$E1" simplereenroll tc06 --cert "$D/tc03.pem" --key "$D/tc03-op.key")"
check_eq "re-enrollment without a certificate, with Basic: an app's enrollment" 200 \
    "$(enroll "$E1" simplereenroll tc06 -u "$APPID:$APPKEY")"

# --- TC-07 to TC-10: server-generated keys ----------------------------------------
n=$(counts)
key tc07 "/CN=myclient" rsa
check_eq "TC-07: RSA serverkeygen with AppID:AppKey on $E2: 200" 200 \
    "$(enroll "$E2" serverkeygen tc07 -u "$APPID:$APPKEY")"
check_match "TC-07: multipart/mixed" '^multipart/mixed; boundary=' \
    "$(header Content-Type)"
check "TC-07: a PKCS#8 key part and a certs-only part" \
    keygen_split "$D/tc07-gen.key" "$D/tc07-gen.pem"
check_match "TC-07: the key part is application/pkcs8" \
    'Content-Type: application/pkcs8' "$(tr -d '\r' <"$T_TMP/body")"
check "TC-07: the chain verifies" verifies "$D/tc07-gen.pem" "$E2"
check_eq "TC-07: RSA 2048, the subject" "RSA 2048 CN=myclient" \
    "$(keyinfo "$D/tc07-gen.pem") $(subject "$D/tc07-gen.pem")"
check_eq "TC-07: the key is the certificate's, not the CSR's" \
    "$(openssl pkey -in "$D/tc07-gen.key" -pubout) no" \
    "$(openssl x509 -in "$D/tc07-gen.pem" -noout -pubkey) $( [ \
	"$(openssl pkey -in "$D/tc07.key" -pubout)" = \
	"$(openssl pkey -in "$D/tc07-gen.key" -pubout)" ] && echo yes || echo no)"
check_eq "TC-07: no key is kept" 0 \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE fingerprint =
	UNHEX('$(hexfp "$D/tc07-gen.pem")') AND wrapped_key IS NOT NULL
	AND key_destroyed_at IS NULL")"
key tc08 "/CN=myclientec"
check_eq "TC-08: EC serverkeygen with AppID:AppKey on $E1: 200" 200 \
    "$(enroll "$E1" serverkeygen tc08 -u "$APPID:$APPKEY")"
check "TC-08: key and certificate" keygen_split "$D/tc08-gen.key" "$D/tc08-gen.pem"
check_eq "TC-08: EC P-256, the key matches" \
    "EC 256 prime256v1 $(openssl pkey -in "$D/tc08-gen.key" -pubout | sha256sum)" \
    "$(keyinfo "$D/tc08-gen.pem") $(openssl x509 -in "$D/tc08-gen.pem" -noout -pubkey | sha256sum)"
mint "tc09-$RUN" rsa
key tc09 "/CN=myclientrsa"
check_eq "TC-09: RSA serverkeygen with a factory certificate on $E2: 200" 200 \
    "$(enroll "$E2" serverkeygen tc09 --cert "$D/tc09-$RUN.pem" --key "$D/tc09-$RUN.key")"
check "TC-09: key and certificate" keygen_split "$D/tc09-gen.key" "$D/tc09-gen.pem"
check "TC-09: the chain verifies" verifies "$D/tc09-gen.pem" "$E2"
check_eq "TC-09: RSA 2048, the device's name, the key matches" \
    "RSA 2048 CN=tc09-$RUN $(openssl pkey -in "$D/tc09-gen.key" -pubout | sha256sum)" \
    "$(keyinfo "$D/tc09-gen.pem") $(subject "$D/tc09-gen.pem") $(openssl x509 \
	-in "$D/tc09-gen.pem" -noout -pubkey | sha256sum)"
D9=$(db_sql "SELECT id FROM devices WHERE name = 'tc09-$RUN'")
check_eq "TC-09: the device auto-registered (est-dar), OPERATIONAL, bound" \
    "est-dar OPERATIONAL $D9 operational" \
    "$(db_sql "SELECT CONCAT_WS(' ', created_via, mode) FROM devices
	WHERE id = '$D9'") $(bound "$D/tc09-gen.pem")"
mint "tc10-$RUN"
key tc10 "/CN=myclientecc"
check_eq "TC-10: EC serverkeygen with a factory certificate on $E1: 200" 200 \
    "$(enroll "$E1" serverkeygen tc10 --cert "$D/tc10-$RUN.pem" --key "$D/tc10-$RUN.key")"
check "TC-10: key and certificate" keygen_split "$D/tc10-gen.key" "$D/tc10-gen.pem"
check_eq "TC-10: EC P-256, the device's name" "EC 256 prime256v1 CN=tc10-$RUN" \
    "$(keyinfo "$D/tc10-gen.pem") $(subject "$D/tc10-gen.pem")"
check_eq "serverkeygen: recorded" 4 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE operation = 'serverkeygen'
	AND outcome = 'success' AND server_id IN ($S1, $S2)")"
check_eq "serverkeygen disabled on the server: 403" 403 \
    "$(enroll "$N1" serverkeygen tc08 -u "$APPID:$APPKEY")"
check_match "...with its reason" 'server key generation disabled' \
    "$(cat "$T_TMP/body")"

# --- TC-12, TC-13 ---------------------------------------------------------------------
key tc12 "/"
check_eq "TC-12: the Wi-SUN template on $W1 with AppID:AppKey: 200" 200 \
    "$(enroll "$W1" simpleenroll tc12 -u "$APPID:$APPKEY")"
leaf "$D/tc12.pem"
check "TC-12: the chain verifies" verifies "$D/tc12.pem" "$W1"
check_eq "TC-12: EC P-256, the template's fixed O" "EC 256 prime256v1 O=Wi-SUN Alliance" \
    "$(keyinfo "$D/tc12.pem") $(subject "$D/tc12.pem")"
check_eq "TC-12: the certificate is of the cms server's template" "$WT other" \
    "$(db_sql "SELECT CONCAT_WS(' ', template_id, kind) FROM certificates
	WHERE fingerprint = UNHEX('$(hexfp "$D/tc12.pem")')")"
check_eq "TC-12: an application the cms server does not list: 403" 403 \
    "$(enroll "$W1" simpleenroll tc12 -u "${APP2%%	*}:${APP2#*	}")"
check_eq "a cms server takes no factory certificate: 401" 401 \
    "$(enroll "$W1" simpleenroll tc12 --cert "$D/$DEVE.pem" --key "$D/$DEVE.key")"
key tc13 "/CN=myclient13"
check_eq "TC-13: EC with the application's TLS certificate on $E1: 200" 200 \
    "$(enroll "$E1" simpleenroll tc13 --cert "$D/app.pem" --key "$D/app.key")"
leaf "$D/tc13.pem"
check_eq "TC-13: EC P-256, the CSR's subject, no device" \
    "EC 256 prime256v1 CN=myclient13 none operational" \
    "$(keyinfo "$D/tc13.pem") $(subject "$D/tc13.pem") $(bound "$D/tc13.pem")"
check_eq "TC-13: recorded as app_cert" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE app_id = $AID
	AND auth_method = 'app_cert' AND outcome = 'success'")"

# --- the Azure IoT Identity Service (certd's EST client) ---------------------------
# certd gets cacerts, then posts the CSR (base64 on one line) with its
# identity certificate, and may send Basic credentials meant for Azure
# beside it: the certificate authenticates.
key az1 "/CN=l001"
base64 -w 0 <(openssl req -in "$D/az1.csr" -outform DER) >"$D/az1.b64"
check_eq "Aziot-tc01: cacerts" 200 "$(est GET "$E1" cacerts --cert "$D/app.pem" \
    --key "$D/app.key")"
check_eq "Aziot-tc01: EC with the application certificate: 200" 200 \
    "$(enroll "$E1" simpleenroll az1 --cert "$D/app.pem" --key "$D/app.key" \
	-u provisioningserviceowner:not-ours)"
leaf "$D/az1.pem"
check_eq "Aziot-tc01: EC P-256, CN=l001" "EC 256 prime256v1 CN=l001" \
    "$(keyinfo "$D/az1.pem") $(subject "$D/az1.pem")"
key az2 "/CN=l002" rsa
check_eq "Aziot-tc02: RSA with the application certificate ($E2): 200" 200 \
    "$(enroll "$E2" simpleenroll az2 --cert "$D/app.pem" --key "$D/app.key")"
leaf "$D/az2.pem"
check "Aziot-tc02: the chain verifies" verifies "$D/az2.pem" "$E2"
check_eq "Aziot-tc02: RSA 2048" "RSA 2048" "$(keyinfo "$D/az2.pem")"
mint "az3-$RUN"
key az3 "/CN=l003"
check_eq "Aziot-tc03: EC with a factory certificate: 200" 200 \
    "$(enroll "$E1" simpleenroll az3 --cert "$D/az3-$RUN.pem" --key "$D/az3-$RUN.key")"
leaf "$D/az3.pem"
check_eq "Aziot-tc03: the device's certificate" "CN=az3-$RUN operational" \
    "$(subject "$D/az3.pem") $(bound "$D/az3.pem" | cut -d' ' -f2)"

# --- device ID/password -------------------------------------------------------------
PWD_DEV="pwdev-$RUN"
IDP=$(device "$PWD_DEV" "$DTE")
key pw1 "/CN=ignored"
n=$(counts)
check_eq "device ID/password: a wrong password is 401" 401 \
    "$(enroll "$E1" simpleenroll pw1 -u "$PWD_DEV:wrong")"
check_eq "...an unknown device ID too" 401 \
    "$(enroll "$E1" simpleenroll pw1 -u "nosuch-$RUN:pw-x")"
check_eq "...recorded as denied for the device" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE device_id = $IDP
	AND auth_method = 'device_password' AND outcome = 'denied'")"
check_eq "...and nothing written" "$n" "$(counts)"
check_eq "device ID/password: 200" 200 \
    "$(enroll "$E1" simpleenroll pw1 -u "$PWD_DEV:pw-$PWD_DEV")"
leaf "$D/pw1.pem"
check "device ID/password: the chain verifies" verifies "$D/pw1.pem" "$E1"
check_eq "device ID/password: the device's CN, bound, OPERATIONAL" \
    "CN=$PWD_DEV $IDP operational OPERATIONAL" \
    "$(subject "$D/pw1.pem") $(bound "$D/pw1.pem") $(mode "$IDP")"
check_eq "device ID/password: audited as the device's enroll and issue" "1 1" \
    "$(audits device enroll "$IDP") $(db_sql "SELECT COUNT(*) FROM audit_log
	WHERE actor_type = 'device' AND actor_id = $IDP AND entity = 'certificate'
	AND action = 'issue'")"
check_eq "device ID/password: recorded" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE device_id = $IDP
	AND auth_method = 'device_password' AND outcome = 'success'
	AND server_id = $S1")"
check_eq "device ID/password on the RSA server (another device type): 403" 403 \
    "$(enroll "$E2" simpleenroll tc01 -u "$PWD_DEV:pw-$PWD_DEV")"
check_eq "disabled: 403" "200 403" \
    "$(as admin POST "$DEV/$IDP/disable") $(enroll "$E1" simpleenroll pw1 -u "$PWD_DEV:pw-$PWD_DEV")"

# --- device passwords are throttled as logins are ------------------------------------
# Failures count for 15 minutes against the device ID and the address:
# forget this script's, so that it can run again.
forget_attempts() {
	db_sql "DELETE FROM login_attempts WHERE username LIKE 'est:%'
	    OR source_addr = '192.0.2.77'" >/dev/null 2>&1
}
at_exit forget_attempts
forget_attempts
# account NAME: the throttling account of device ID NAME in the tenant.
account() {
	printf 'est:%s:%s' "$TID1" "$(printf '%s' "$1" | sha256sum | cut -c1-32)"
}
THR="thr-$RUN"
IDT=$(device "$THR" "$DTE")
codes=""
for i in 1 2 3 4 5; do
	codes="$codes $(enroll "$E1" simpleenroll pw1 -u "$THR:wrong-$i")"
done
check_eq "throttle: five wrong passwords for one device ID are 401" \
    " 401 401 401 401 401" "$codes"
check_eq "throttle: the sixth check is 429, even with the right password" 429 \
    "$(enroll "$E1" simpleenroll pw1 -u "$THR:pw-$THR")"
check_match "throttle: Retry-After in seconds within the window" \
    '^([1-9][0-9]?|[1-8][0-9][0-9]|900)$' "$(header Retry-After)"
check_match "throttle: the reason says so" 'too many failures for this device ID' \
    "$(cat "$T_TMP/body")"
check_eq "throttle: recorded as denied" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE server_id = $S1
	AND auth_method = 'device_password' AND outcome = 'denied'
	AND reason LIKE 'throttled: too many failures for this device ID%'")"
check_eq "throttle: the refused check is not a failure; five are" 5 \
    "$(db_sql "SELECT COUNT(*) FROM login_attempts
	WHERE username = '$(account "$THR")' AND NOT success")"
check_eq "throttle: no certificate for the device" 0 \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE device_id = $IDT
	AND kind = 'operational'")"
CLR="clr-$RUN"
IDC=$(device "$CLR" "$DTE")
codes=""
for i in 1 2 3; do
	codes="$codes $(enroll "$E1" simpleenroll pw1 -u "$CLR:wrong-$i")"
done
codes="$codes $(enroll "$E1" simpleenroll pw1 -u "$CLR:pw-$CLR")"
for i in 4 5 6; do
	codes="$codes $(enroll "$E1" simpleenroll pw1 -u "$CLR:wrong-$i")"
done
check_eq "throttle: another device ID is not throttled; a success clears its count" \
    " 401 401 401 200 401 401 401" "$codes"

# The address's count, straight to estuary-est's FastCGI socket with the
# variables a web server sets, from an address no other check uses.
est_fcgi() {
	local out=$T_TMP/estfcgi.out body
	body=$(cat "$D/pw1.b64")
	printf '%s' "$body" | env -i LC_ALL=C REQUEST_METHOD=POST \
	    REQUEST_URI=/.well-known/est/simpleenroll HTTP_HOST="$E1" HTTPS=on \
	    REMOTE_ADDR=192.0.2.77 CONTENT_LENGTH=${#body} \
	    CONTENT_TYPE=application/pkcs10 \
	    HTTP_AUTHORIZATION="Basic $(printf '%s' "$1" | base64 -w0)" \
	    cgi-fcgi -bind -connect "$(conf est_socket)" >"$out" 2>/dev/null
	tr -d '\r' <"$out" | sed -n 's/^Status: \([0-9]*\).*/\1/p'
}
for i in $(seq 1 25); do
	code=$(est_fcgi "nobody-$i-$RUN:x")
	[ "$code" = 429 ] && break
done
check_eq "throttle per address: 429 after 20 failures from one address" \
    "429 21" "$code $i"
check_eq "throttle per address: another address is not throttled" 200 \
    "$(enroll "$E1" simpleenroll pw1 -u "$CLR:pw-$CLR")"

# --- zero-touch with the external factory CA (label ext) ---------------------------
FPX=$(hexfp "$D/ext1.pem")
key z1 "/CN=zt"
check_eq "zero-touch: no device yet" 0 \
    "$(db_sql "SELECT COUNT(*) FROM devices WHERE factory_cert_fingerprint = UNHEX('$FPX')")"
check_eq "zero-touch: a never-seen device enrolls under the label: 200" 200 \
    "$(enroll "$E1" ext/simpleenroll z1 --cert "$D/ext1.pem" --key "$D/ext1.key")"
leaf "$D/z1.pem"
check "zero-touch: the chain verifies against the label's cacerts" \
    verifies "$D/z1.pem" "$E1" ext
DZ=$(db_sql "SELECT id FROM devices WHERE factory_cert_fingerprint = UNHEX('$FPX')")
check_eq "zero-touch: registered (est-dar, named by the fingerprint, the label's type)" \
    "est-dar $FPX $DTX OPERATIONAL" \
    "$(db_sql "SELECT CONCAT_WS(' ', created_via, name, device_type_id, mode)
	FROM devices WHERE id = '$DZ'")"
check_eq "zero-touch: the certificate is the device's" "$DZ operational" \
    "$(bound "$D/z1.pem")"
check_eq "zero-touch: recorded with the label, device created" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE device_id = '$DZ'
	AND label = 'ext' AND device_created = 1 AND outcome = 'success'")"
check_eq "Enforce Factory Mode: an OPERATIONAL device again: 403" 403 \
    "$(enroll "$E1" ext/simpleenroll z1 --cert "$D/ext1.pem" --key "$D/ext1.key")"
check_eq "Set as Factory Mode" 200 "$(as admin POST "$DEV/$DZ/set-factory-mode")"
check_eq "re-provisioning in FACTORY mode: 200" 200 \
    "$(enroll "$E1" ext/simpleenroll z1 --cert "$D/ext1.pem" --key "$D/ext1.key")"
leaf "$D/z2.pem"
check_eq "re-provisioning: the same record, OPERATIONAL, one device" \
    "$DZ operational OPERATIONAL 1" \
    "$(bound "$D/z2.pem") $(mode "$DZ") $(db_sql "SELECT COUNT(*) FROM devices
	WHERE factory_cert_fingerprint = UNHEX('$FPX')")"
check_eq "disabled: 403" "200 200 403" \
    "$(as admin POST "$DEV/$DZ/set-factory-mode") $(as admin POST "$DEV/$DZ/disable") $(enroll "$E1" ext/simpleenroll z1 --cert "$D/ext1.pem" --key "$D/ext1.key")"
check_eq "the external device at the server's own type (no label): 403" 403 \
    "$(enroll "$E1" simpleenroll z1 --cert "$D/ext1.pem" --key "$D/ext1.key")"
extleaf ext2
for i in 1 2; do
	curl -sS -o /dev/null -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	    --resolve "$E1:$PORT:127.0.0.1" -X POST \
	    -H 'Content-Type: application/pkcs10' --data-binary @"$D/z1.b64" \
	    --cert "$D/ext2.pem" --key "$D/ext2.key" \
	    "https://$E1:$PORT/.well-known/est/ext/simpleenroll" >"$T_TMP/par$i" &
done
wait
check_eq "two enrollments of one new device at once: one wins" \
    "1 1" "$(cat "$T_TMP/par1" "$T_TMP/par2" | grep -o 200 | wc -l) $(db_sql \
	"SELECT COUNT(*) FROM devices WHERE factory_cert_fingerprint =
	UNHEX('$(hexfp "$D/ext2.pem")')")"

# --- refusals: nothing written ----------------------------------------------------
n=$(counts)
key bad "/CN=bad"
printf 'MIIB!!!not*base64\n' >"$D/b64junk.b64"
printf 'AgEB\n' >"$D/notcsr.b64"
# A CSR whose signature is not its key's: a bit of the signature flipped.
openssl req -in "$D/bad.csr" -outform DER |
    perl -0777 -pe 'substr($_, -4, 1) = chr(ord(substr($_, -4, 1)) ^ 1)' |
    base64 -w 64 >"$D/badsig.b64"
head -c 120000 /dev/zero | tr '\0' 'A' >"$D/huge.b64"
head -c 2097152 /dev/zero >"$D/2mib.b64"
AUTH=(-u "$APPID:$APPKEY")
check_eq "malformed base64: 400" 400 "$(enroll "$E1" simpleenroll b64junk "${AUTH[@]}")"
check_match "...text/plain with a reason" '^text/plain' "$(header Content-Type)"
check_match "...that says so" 'malformed CSR' "$(cat "$T_TMP/body")"
check_eq "DER that is not a CSR: 400" 400 "$(enroll "$E1" simpleenroll notcsr "${AUTH[@]}")"
check_eq "a CSR signed with another key: 400" 400 \
    "$(enroll "$E1" simpleenroll badsig "${AUTH[@]}")"
check_eq "a body over the CSR limit: 413" 413 "$(enroll "$E1" simpleenroll huge "${AUTH[@]}")"
check_eq "a body over max_body: 413" 413 \
    "$(enroll "$E1" simpleenroll 2mib "${AUTH[@]}" -H 'Expect:')"
check_eq "application/json: 415" 415 \
    "$(est POST "$E1" simpleenroll "${AUTH[@]}" --data-binary @"$D/bad.b64" \
	-H 'Content-Type: application/json')"
check_match "...naming the media type" 'application/pkcs10' "$(cat "$T_TMP/body")"
check_eq "no Content-Type: 415" 415 \
    "$(est POST "$E1" simpleenroll "${AUTH[@]}" --data-binary @"$D/bad.b64" \
	-H 'Content-Type:')"
check_eq "an unknown label: 404" 404 "$(enroll "$E1" nolabel/simpleenroll bad "${AUTH[@]}")"
check_match "...unknown EST label" 'unknown EST label' "$(cat "$T_TMP/body")"
check_eq "a malformed label: 404" 404 "$(enroll "$E1" Ext/simpleenroll bad "${AUTH[@]}")"
check_eq "an unknown domain: 404" 404 \
    "$(enroll "nosuch$RUN.estuary.test" simpleenroll bad "${AUTH[@]}")"
check_match "...unknown EST domain" 'unknown EST domain' "$(cat "$T_TMP/body")"
check_eq "cacerts of an unknown domain: 404" 404 \
    "$(est GET "nosuch$RUN.estuary.test" cacerts)"
check_eq "an IP literal as host: 404" 404 \
    "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	"$ESTUARY_URL/.well-known/est/cacerts")"
check_eq "GET simpleenroll: 405" 405 "$(est GET "$E1" simpleenroll)"
check_match "...Allow: POST" POST "$(header Allow)"
check_eq "an address outside the allow list: 403" 403 \
    "$(enroll "$N2" simpleenroll bad "${AUTH[@]}")"
check_match "...with its reason" 'address not allowed' "$(cat "$T_TMP/body")"
check_eq "cacerts outside the allow list: 403" 403 "$(est GET "$N2" cacerts)"
check_eq "a factory certificate where the server takes only app keys: 401" 401 \
    "$(enroll "$N1" simpleenroll bad --cert "$D/$DEVE.pem" --key "$D/$DEVE.key")"
check_eq "deactivated server: 404" "200 404" \
    "$(as admin POST "$ES/$SN1/deactivate") $(enroll "$N1" simpleenroll bad "${AUTH[@]}")"
# Host header injection, sent raw: the request module refuses it.
raw() {
	# shellcheck disable=SC2059
	printf "$1" | timeout 15 openssl s_client -quiet -verify_quiet \
	    -CAfile "$ESTUARY_TLS_CA" -connect "127.0.0.1:$PORT" \
	    -servername "$E1" 2>/dev/null | head -n 1 | tr -d '\r'
}
body=$(cat "$D/bad.b64")
len=${#body}
check_match "Host with CR LF injection: 400" ' 400' \
    "$(raw "POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: $E1\rX-Evil: 1\r\nContent-Type: application/pkcs10\r\nContent-Length: $len\r\nConnection: close\r\n\r\n$body")"
check_match "Host with userinfo: 400" ' 400' \
    "$(raw "GET /.well-known/est/cacerts HTTP/1.1\r\nHost: evil@$E1\r\nConnection: close\r\n\r\n")"
check_match "a raw request to the same host: 200 (control)" ' 200' \
    "$(raw "GET /.well-known/est/cacerts HTTP/1.1\r\nHost: $E1\r\nConnection: close\r\n\r\n")"
check_eq "refusals: no device and no certificate written" "$n" "$(counts)"
check_eq "refusals: each recorded with a reason" 0 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE outcome <> 'success'
	AND (reason IS NULL OR reason = '')")"
check_match "refusals: the unknown label recorded under the domain" '^[1-9]' \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE domain = '$E1'
	AND label = 'nolabel' AND outcome = 'failure'")"

# --- connections and TLS versions --------------------------------------------------
key ka1 "/CN=keepalive1"
key ka2 "/CN=keepalive2"
check_eq "keep-alive: two enrollments on one connection" "200 1 200 0" \
    "$(curl -sS --cacert "$ESTUARY_TLS_CA" --resolve "$E1:$PORT:127.0.0.1" \
	-H 'Content-Type: application/pkcs10' -u "$APPID:$APPKEY" \
	-w '%{http_code} %{num_connects} ' -o /dev/null \
	--data-binary @"$D/ka1.b64" "https://$E1:$PORT/.well-known/est/simpleenroll" \
	--next -H 'Content-Type: application/pkcs10' -u "$APPID:$APPKEY" \
	-w '%{http_code} %{num_connects}' -o /dev/null \
	--data-binary @"$D/ka2.b64" "https://$E1:$PORT/.well-known/est/simpleenroll" \
	--cacert "$ESTUARY_TLS_CA" --resolve "$E1:$PORT:127.0.0.1")"
check_eq "Connection: close: 200" 200 \
    "$(enroll "$E1" simpleenroll ka1 "${AUTH[@]}" -H 'Connection: close')"
check_eq "TLS 1.2: 200" 200 \
    "$(enroll "$E1" simpleenroll ka1 "${AUTH[@]}" --tlsv1.2 --tls-max 1.2)"
check_eq "TLS 1.2 with a client certificate: 200" 200 \
    "$(enroll "$E1" simpleenroll ka2 --cert "$D/app.pem" --key "$D/app.key" \
	--tlsv1.2 --tls-max 1.2)"
check_eq "TLS 1.3: 200" 200 \
    "$(enroll "$E1" simpleenroll ka1 "${AUTH[@]}" --tlsv1.3)"


# --- the signer down: 503 with Retry-After, nothing written, then back -------------
DEVSTACK=$ESTUARY_SRCDIR/devstack
export ESTUARY_VAR
key sd "/CN=signer-down"
mint "sd-$RUN"
n=$(counts)
check "devstack stop signer" "$DEVSTACK" stop signer
check_eq "signer down: enrollment 503" 503 \
    "$(enroll "$E1" simpleenroll sd "${AUTH[@]}")"
check_eq "signer down: Retry-After" 30 "$(header Retry-After)"
check_eq "signer down: a factory certificate is 503 too" 503 \
    "$(enroll "$E1" simpleenroll sd --cert "$D/sd-$RUN.pem" --key "$D/sd-$RUN.key")"
check_eq "signer down: cacerts still served (no signer needed)" 200 \
    "$(est GET "$E2" cacerts)"
check_eq "signer down: nothing written" "$n" "$(counts)"
check "devstack start signer" "$DEVSTACK" start signer
code=
for _ in $(seq 1 100); do
	code=$(enroll "$E1" simpleenroll sd "${AUTH[@]}")
	[ "$code" = 200 ] && break
	sleep 0.1
done
check_eq "signer back: enrollment 200" 200 "$code"
check_eq "signer back: the factory certificate enrolls" 200 \
    "$(enroll "$E1" simpleenroll sd --cert "$D/sd-$RUN.pem" --key "$D/sd-$RUN.key")"

finish
