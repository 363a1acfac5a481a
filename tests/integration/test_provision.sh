#!/bin/bash
# shellcheck disable=SC2016 # jq programs name their $variables in single quotes
#
# Zero-touch provisioning through the reduced REST API for devices
# (fcgi/api_provision.h, pki/provision.h): devices that authenticate with
# their TLS client certificate.  A device type with an internal factory
# template, mapping CN <- DeviceName, Device Auto-Registration and
# Enforce Factory Mode; factory certificates minted through the admin API
# for devices that do not exist yet.  Then: a never-seen device
# auto-registers (named by reverse mapping, OPERATIONAL, a certificate
# that chains and carries the device's name), enrolls again onto the same
# record only after Set as Factory Mode, is refused when disabled or when
# it presents itself to another device type; DAR off refuses and writes
# no device; an external factory CA names the device by its fingerprint;
# re-enrollment keeps the subject and is refused with a revoked
# certificate; no client certificate is 401; a malformed CSR is 400 with
# nothing written; two simultaneous enrollments of one new device give
# one device; a server-generated key comes back once; every attempt is
# recorded in est_enrollments and the audit log.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PROV=/api/v1/provisioning
DEV=/api/v1/devices
DT=/api/v1/device-types
CERTS=/api/v1/certificates
T1="Prov T1 $RUN"
O1="Prov O1 $RUN"
D=$T_TMP/pki
mkdir -p "$D"

# counts: devices and certificates, as one string.
counts() {
	nrows devices certificates
}

# key NAME SUBJECT: an EC P-256 key and CSR in $D/NAME.key and NAME.csr.
key() {
	csr_new "$D/$1" "$2"
}

# mint NAME: a factory certificate of the factory template for a device
# named NAME that does not exist, into $D/NAME.pem (key $D/NAME.key).
mint() {
	key "$1" "/CN=$1" && cert_pem "$FT" "$D/$1.csr" "$D/$1.pem"
}

# enroll TYPE CERT-NAME [BODY]: POST .../device-types/TYPE/enroll with the
# certificate $D/CERT-NAME.pem and its key; BODY defaults to a CSR of a
# fresh key kept in $D/CERT-NAME.op.key.  Prints the status.
enroll() {
	local body=$3

	if [ -z "$body" ]; then
		key "$2.op" "/CN=ignored-$2/OU=Extra" &&
		    body=$(jq -nc --rawfile c "$D/$2.op.csr" '{csr: $c}')
	fi
	http POST "$PROV/device-types/$1/enroll" --cert "$D/$2.pem" \
	    --key "$D/$2.key" -H 'Content-Type: application/json' \
	    --data-binary "$body"
}

# reenroll CERT KEY: POST .../reenroll with that client certificate and a
# CSR of a new key, $D/renew.key; prints the status.
reenroll() {
	key renew "/CN=renew-ignored" &&
	    http POST "$PROV/reenroll" --cert "$1" --key "$2" \
		-H 'Content-Type: application/json' \
		--data-binary "$(jq -nc --rawfile c "$D/renew.csr" '{csr: $c}')"
}

# --- setup ---------------------------------------------------------------------------
tenant_add "$T1" "$O1"
TID1=$(tid_of "$T1")
OID1=$(oid_of "$O1")
admin_session
FCA=$(ca_add "Prov factory CA $RUN" "$D/fca.pem")
OCA=$(ca_add "Prov operational CA $RUN" "$D/oca.pem")
check_match "setup: two CAs" '^[0-9]+ [0-9]+$' "$FCA $OCA"

# tpl NAME TYPE CA: a tenant template with CN and O, server key
# generation on; prints its id, and leaves it in $T_TMP/NAME.json.
tpl() {
	tpl_add "$1 $RUN" "$2" "$3" '[
	    {"attribute": "CN", "rule": "required", "max_length": 64},
	    {"attribute": "O", "rule": "optional", "max_length": 64}]' \
	    "$(jq -nc --argjson tid "$TID1" '{scope: "tenant", tenant_id: $tid,
	    server_keygen: true, keygen_key_type: "ec-p256",
	    key_retention_days: 0}')"
	jq -c . "$T_TMP/body" >"$T_TMP/$1.json"
}
FT=$(tpl factory factory "$FCA")
OT=$(tpl operational operational "$OCA")
check_match "setup: templates" '^[0-9]+ [0-9]+$' "$FT $OT"
F_CN=$(field_id "$T_TMP/factory.json" CN)
O_CN=$(field_id "$T_TMP/operational.json" CN)

# devtype NAME DAR ENFORCE: an internal-factory device type of O1 with
# mapping CN <- DeviceName on both templates; prints its id.
devtype() {
	as admin POST "$DT" "$(jq -nc --arg n "$1 $RUN" --argjson o "$OID1" \
	    --argjson ot "$OT" --argjson ft "$FT" --argjson fcn "$F_CN" \
	    --argjson ocn "$O_CN" --argjson dar "$2" --argjson ef "$3" '{
	    name: $n, org_id: $o, dar: $dar, enforce_factory_mode: $ef,
	    use_cert_mapping: true,
	    operational_templates: [{template_id: $ot, default: true}],
	    factory_source: "internal", factory_template_id: $ft,
	    mappings: [{subject_field_id: $fcn, source: "device_name"},
		{subject_field_id: $ocn, source: "device_name"}],
	    properties: {model: {required: true}}}')" >/dev/null
	jbody .id
}
DTA=$(devtype "Prov DAR" true true)
DTB=$(devtype "Prov no DAR" false false)
check_match "setup: device types" '^[0-9]+ [0-9]+$' "$DTA $DTB"

# An external factory CA made by openssl, registered as verified.
x509_ca "$D/ext-ca" "/CN=Prov ext CA $RUN" ||
    { echo "cannot make the CA"; exit 1; }
# extleaf NAME: a device certificate of the external CA, $D/NAME.pem.
extleaf() {
	key "$1" "/CN=$1 $RUN" && x509_sign "$D/$1" "$D/ext-ca" client_ext
}
check_eq "setup: the external CA" 201 \
    "$(extca_add "Prov ext $RUN" "$D/ext-ca.pem" "$TID1" "$OID1")"
EXTCA=$(jbody .id)
check_eq "setup: a device type with the external factory CA" 201 \
    "$(devtype_ext "Prov external $RUN" "$EXTCA" "$OT" \
	"$(jq -nc --argjson o "$OID1" '{org_id: $o, dar: true}')")"
DTX=$(jbody .id)

# The web server exports a client certificate only when it verifies
# against its client-CA file: rewrite it with the new CAs, restart, and
# wait (bounded) until a certificate of each comes through.
DEV1="dev1-$RUN"
mint "$DEV1" && extleaf ext1
check "setup: the client-CA file" ctl tls client-ca --reload
ready=no
for _ in $(seq 1 100); do
	a=$(reenroll "$D/$DEV1.pem" "$D/$DEV1.key")
	b=$(reenroll "$D/ext1.pem" "$D/ext1.key")
	if [ "$a $b" = "403 403" ]; then
		ready=yes
		break
	fi
	sleep 0.1
done
check_eq "setup: the web server passes both client certificates" yes "$ready"

# --- auto-registration ------------------------------------------------------------
FP1=$(hexfp "$D/$DEV1.pem")
n0=$(db_sql "SELECT COUNT(*) FROM devices WHERE name = '$DEV1'")
check_eq "a never-seen device: no device yet" 0 "$n0"
check_eq "a never-seen device enrolls: 201" 201 "$(enroll "$DTA" "$DEV1")"
D1=$(jbody .device.id)
check_eq "auto-registered: named by reverse mapping, OPERATIONAL, created" \
    "$DEV1 OPERATIONAL true" \
    "$(jbody '"\(.device.name) \(.device.mode) \(.device.created)"')"
jbody .certificate.pem >"$D/dev1-op1.pem"
cp "$D/$DEV1.op.key" "$D/dev1-op1.key"
jbody '.chain[]' >"$D/dev1-chain.pem"
check "the operational certificate chains to the operational CA" \
    openssl verify -CAfile "$D/oca.pem" "$D/dev1-op1.pem"
check_eq "the answer's chain is the operational CA" "$(hexfp "$D/oca.pem")" \
    "$(hexfp "$D/dev1-chain.pem")"
check_eq "the subject: CN from the device's name (mapping), the CSR's OU ignored" \
    "CN=$DEV1" "$(subject "$D/dev1-op1.pem")"
check_eq "the certificate's key is the CSR's" \
    "$(openssl pkey -in "$D/dev1-op1.key" -pubout)" \
    "$(openssl x509 -in "$D/dev1-op1.pem" -noout -pubkey)"
check_eq "the device row: rest-dar, the factory fingerprint bound, UNDEFINED model" \
    "rest-dar OPERATIONAL UNDEFINED $OID1" \
    "$(db_sql "SELECT CONCAT_WS(' ', created_via, mode, model, org_id)
	FROM devices WHERE factory_cert_fingerprint = UNHEX('$FP1')")"
check_eq "the certificate is bound to the device, issued by it" \
    "$D1 operational device api" \
    "$(db_sql "SELECT CONCAT_WS(' ', device_id, kind, created_by_type,
	issued_via) FROM certificates WHERE id = $(jbody .certificate.id)")"
check_eq "est_enrollments: a success, device created" "1 1" \
    "$(db_sql "SELECT CONCAT_WS(' ', COUNT(*), SUM(device_created))
	FROM est_enrollments WHERE device_id = $D1 AND outcome = 'success'
	AND operation = 'rest' AND auth_method = 'factory_cert'")"
check_eq "audited: auto_register by the device, and the certificate's issue" "1 1" \
    "$(audits device auto_register "$D1") $(db_sql "SELECT COUNT(*)
	FROM audit_log WHERE entity = 'certificate' AND action = 'issue'
	AND actor_type = 'device' AND actor_id = $D1")"

# --- the same device again: Enforce Factory Mode -------------------------------
check_eq "again while OPERATIONAL with Enforce Factory Mode: 403" 403 \
    "$(enroll "$DTA" "$DEV1")"
check_eq "the reason" not_factory_mode "$(jbody .error.reason)"
check_eq "Set as Factory Mode" 200 "$(as admin POST "$DEV/$D1/set-factory-mode")"
check_eq "again in FACTORY mode: 201" 201 "$(enroll "$DTA" "$DEV1")"
check_eq "re-provisioning: the same device, not created, OPERATIONAL" \
    "$D1 false OPERATIONAL" \
    "$(jbody '"\(.device.id) \(.device.created) \(.device.mode)"')"
check_eq "two operational certificates, one device" "2 1" \
    "$(db_sql "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM certificates
	WHERE device_id = $D1 AND kind = 'operational'), (SELECT COUNT(*)
	FROM devices WHERE factory_cert_fingerprint = UNHEX('$FP1')))")"
check_eq "the refusal is recorded" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE device_id = $D1
	AND outcome = 'denied' AND reason LIKE 'not_factory_mode%'")"
check_eq "the refusal is audited" 1 "$(audits device enroll "$D1" denied)"

# --- refusals ---------------------------------------------------------------------
check_eq "Set as Factory Mode, then disable" "200 200" \
    "$(as admin POST "$DEV/$D1/set-factory-mode") $(as admin POST "$DEV/$D1/disable")"
n=$(counts)
check_eq "a disabled device: 403" 403 "$(enroll "$DTA" "$DEV1")"
check_eq "disabled: the reason" device_disabled "$(jbody .error.reason)"
check_eq "enable" 200 "$(as admin POST "$DEV/$D1/enable")"
check_eq "the device at another device type: 403" 403 "$(enroll "$DTB" "$DEV1")"
check_eq "another type: the reason" wrong_device_type "$(jbody .error.reason)"
check_eq "an unknown device type: 404" 404 "$(enroll 999999999 "$DEV1")"
check_eq "no client certificate: 401" 401 "$(http POST "$PROV/device-types/$DTA/enroll" \
    -H 'Content-Type: application/json' --data-binary '{"key_type": null}')"
check_eq "no client certificate: no Basic challenge" "" "$(header WWW-Authenticate)"
check_eq "a malformed CSR: 400" 400 "$(enroll "$DTA" "$DEV1" '{"csr": "bm90IGEgQ1NS"}')"
check_eq "an unknown member: 422" 422 "$(enroll "$DTA" "$DEV1" '{"key_type": null, "x": 1}')"
check_eq "both a CSR and a key type: 400" 400 \
    "$(enroll "$DTA" "$DEV1" "$(jq -nc --rawfile c "$D/$DEV1.csr" '{csr: $c, key_type: "ec-p256"}')")"
check_eq "not JSON: 415" 415 "$(http POST "$PROV/device-types/$DTA/enroll" \
    --cert "$D/$DEV1.pem" --key "$D/$DEV1.key" --data-binary 'csr=x')"
check_eq "refusals: no device and no certificate written" "$n" "$(counts)"

DEV2="dev2-$RUN"
mint "$DEV2"
n=$(counts)
check_eq "DAR off, an unknown device: 403" 403 "$(enroll "$DTB" "$DEV2")"
check_eq "DAR off: the reason" device_unknown "$(jbody .error.reason)"
check_eq "DAR off: no device row" "0 $n" \
    "$(db_sql "SELECT COUNT(*) FROM devices WHERE name = '$DEV2'") $(counts)"
check_eq "DAR off: recorded as denied, without a device" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE device_id IS NULL
	AND outcome = 'denied' AND reason LIKE 'device_unknown%'
	AND org_id = $OID1")"
check_eq "DAR off: audited by the system" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE actor_type = 'system'
	AND entity = 'device' AND action = 'enroll' AND outcome = 'denied'
	AND entity_name = '$(hexfp "$D/$DEV2.pem")'")"
check_eq "a certificate of another CA: 403" 403 "$(enroll "$DTA" ext1)"
check_eq "another CA: the reason" certificate_untrusted "$(jbody .error.reason)"
MINTED=$(db_sql "SELECT id FROM certificates WHERE fingerprint = UNHEX('$(hexfp "$D/$DEV2.pem")')")
check_eq "revoke a factory certificate" 200 \
    "$(as admin POST "$CERTS/$MINTED/revoke" '{"reason": "keyCompromise"}')"
check_eq "a revoked factory certificate: 403" 403 "$(enroll "$DTA" "$DEV2")"
check_eq "revoked: the reason" certificate_invalid "$(jbody .error.reason)"

# --- a server-generated key ----------------------------------------------------------
DEV3="dev3-$RUN"
mint "$DEV3"
check_eq "a server-generated key: 201" 201 \
    "$(enroll "$DTA" "$DEV3" '{"key_type": "EC-P256"}')"
jbody .private_key >"$D/dev3-op.key"
jbody .certificate.pem >"$D/dev3-op.pem"
check_match "the key is PKCS#8 PEM" '^-----BEGIN PRIVATE KEY-----' \
    "$(head -n 1 "$D/dev3-op.key")"
check_eq "the key is the certificate's" \
    "$(openssl pkey -in "$D/dev3-op.key" -pubout 2>/dev/null)" \
    "$(openssl x509 -in "$D/dev3-op.pem" -noout -pubkey)"
check_eq "no key is kept" 0 \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE id = $(jbody .certificate.id)
	AND wrapped_key IS NOT NULL AND key_destroyed_at IS NULL")"

# --- the external factory CA -----------------------------------------------------------
FPX=$(hexfp "$D/ext1.pem")
check_eq "external factory CA: a never-seen device enrolls: 201" 201 \
    "$(enroll "$DTX" ext1)"
DX=$(jbody .device.id)
check_eq "external: named by the fingerprint" "$FPX true" \
    "$(jbody '"\(.device.name) \(.device.created)"')"
check_eq "external: the certificate's DER is bound" 1 \
    "$(db_sql "SELECT COUNT(*) FROM devices WHERE id = $DX
	AND factory_cert_der IS NOT NULL AND created_via = 'rest-dar'")"
check_eq "external, no Enforce Factory Mode: again onto the same device" "201 $DX" \
    "$(enroll "$DTX" ext1) $(jbody .device.id)"

# --- two enrollments of one new device at the same time -----------------------------
extleaf ext2
key par1 "/CN=par1" && key par2 "/CN=par2"
for i in 1 2; do
	curl -sS -o "$T_TMP/par$i.body" -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	    -X POST "$ESTUARY_URL$PROV/device-types/$DTX/enroll" \
	    --cert "$D/ext2.pem" --key "$D/ext2.key" \
	    -H 'Content-Type: application/json' \
	    --data-binary "$(jq -nc --rawfile c "$D/par$i.csr" '{csr: $c}')" \
	    >"$T_TMP/par$i.code" &
done
wait
check_eq "concurrent: both enrolled" "201 201" \
    "$(cat "$T_TMP/par1.code") $(cat "$T_TMP/par2.code")"
check_eq "concurrent: one device" 1 \
    "$(db_sql "SELECT COUNT(*) FROM devices WHERE factory_cert_fingerprint =
	UNHEX('$(hexfp "$D/ext2.pem")')")"
check_eq "concurrent: the same device in both answers, created once" \
    "$(jq -r .device.id "$T_TMP/par1.body") 1" \
    "$(jq -r .device.id "$T_TMP/par2.body") $(jq -s '[.[].device.created] | map(select(.)) | length' \
	"$T_TMP/par1.body" "$T_TMP/par2.body")"

# --- re-enrollment ------------------------------------------------------------------------
OLD=$(db_sql "SELECT id FROM certificates WHERE fingerprint = UNHEX('$(hexfp "$D/dev1-op1.pem")')")
check_eq "reenroll with the operational certificate: 201" 201 \
    "$(reenroll "$D/dev1-op1.pem" "$D/dev1-op1.key")"
jbody .certificate.pem >"$D/dev1-re.pem"
cp "$D/renew.key" "$D/dev1-re.key"
check_eq "reenroll: the same device" "$D1 false" \
    "$(jbody '"\(.device.id) \(.device.created)"')"
check_eq "reenroll: the subject is kept" "$(subject "$D/dev1-op1.pem")" \
    "$(subject "$D/dev1-re.pem")"
check_eq "reenroll: the new key is the CSR's" \
    "$(openssl pkey -in "$D/renew.key" -pubout)" \
    "$(openssl x509 -in "$D/dev1-re.pem" -noout -pubkey)"
check_eq "reenroll: renewed_from_id" "$OLD" \
    "$(db_sql "SELECT renewed_from_id FROM certificates WHERE id = $(jbody .certificate.id)")"
check_eq "reenroll: recorded" 1 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE device_id = $D1
	AND auth_method = 'operational_cert' AND outcome = 'success'")"
check_eq "reenroll with a factory certificate: 403" 403 \
    "$(reenroll "$D/$DEV3.pem" "$D/$DEV3.key")"
check_eq "revoke the old operational certificate" 200 \
    "$(as admin POST "$CERTS/$OLD/revoke" '{"reason": "superseded"}')"
check_eq "reenroll with a revoked certificate: 403" 403 \
    "$(reenroll "$D/dev1-op1.pem" "$D/dev1-op1.key")"
check_eq "revoked: the reason" certificate_invalid "$(jbody .error.reason)"
check_eq "disable, then reenroll with the new certificate: 403" "200 403" \
    "$(as admin POST "$DEV/$D1/disable") $(reenroll "$D/dev1-re.pem" "$D/dev1-re.key")"
check_eq "est_enrollments: refusals recorded with reasons" 0 \
    "$(db_sql "SELECT COUNT(*) FROM est_enrollments WHERE outcome <> 'success'
	AND (reason IS NULL OR reason = '')")"

finish
