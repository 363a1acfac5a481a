# shellcheck shell=bash
# shellcheck disable=SC2016 # jq programs name their $variables in single quotes
#
# The EST demo configuration of an instance (issue 6; the guide's test
# preparation, §2.3.7.4): three EST servers of the demo organization under
# the demo domain, with server key generation and every authentication
# method on, and what they need, made through the REST API as the demo
# admin:
#
#	est01.<domain>		dps, device type "Demo EST EC P-256": EC P-256
#				operational certificates, internal EC factory
#				template with mapping, auto-registration on;
#				label "ext": device type "Demo EST external
#				factory", factory CA made here by openssl
#				(registered verified), auto-registration on
#	est02.<domain>		dps, device type "Demo EST RSA 2048": RSA 2048
#				operational certificates, internal RSA factory
#				template, auto-registration on
#	wisunest01.<domain>	cms, the Wi-SUN FAN template (inst_demo_templates)
#
# plus the factory CAs (EC and RSA, keys in the token) under the demo root
# CA, one API application accepted by all three servers (AppID/AppKey and
# a TLS client certificate), one device per dps server with a factory
# certificate and one already OPERATIONAL with an operational certificate
# valid for one day.  The keys and certificates a client needs are PEM
# files under DIR/demo (keys mode 0600), named in demo.env
# (inst_demo_est_env).  Every step keeps what a previous run made; a
# missing file is made again where the server allows it (a new AppKey, a
# new certificate for the device), and an operational certificate that
# expired or was revoked is replaced, so that the re-enrollment demo keeps
# working.  Sourced by tools/instance-create.sh; inst_bootstrap calls
# inst_demo_est after inst_demo_templates, with inst_api (the admin's REST
# session) available.

INST_DEMO_DOMAIN_DEFAULT=estuary.test
INST_DEMO_FACTORY_CA_EC="Estuary Demo Factory CA EC"
INST_DEMO_FACTORY_CA_RSA="Estuary Demo Factory CA RSA"
INST_DEMO_EXT_CA="Estuary Demo External Factory CA"
INST_DEMO_APP="Demo EST application"
INST_DEMO_EXT_LABEL=ext

# inst_demo_domain_ok NAME: a DNS name of two labels or more, lower-case
# letters, digits and inner hyphens, at most 200 characters (the EST
# server names add up to 11 to it).
inst_demo_domain_ok() {
	local l='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'

	[ ${#1} -le 200 ] && [[ $1 =~ ^$l(\.$l)+$ ]]
}

# inst_demo_domain_init: I_DEMO_DOMAIN, the demo domain of this instance,
# chosen when it is created (ESTUARY_DEMO_DOMAIN, by default
# estuary.test) and kept in instance.env like its port.  Reads the file
# itself, since inst_use knows nothing of the variable.
inst_demo_domain_init() {
	I_DEMO_DOMAIN=
	[ -r "$I_ENV" ] &&
	    I_DEMO_DOMAIN=$(sed -n 's/^I_DEMO_DOMAIN=//p' "$I_ENV")
	if [ -n "$I_DEMO_DOMAIN" ]; then
		if [ -n "${ESTUARY_DEMO_DOMAIN:-}" ] &&
		    [ "$ESTUARY_DEMO_DOMAIN" != "$I_DEMO_DOMAIN" ]; then
			inst_say "note: $INST keeps its demo domain" \
			    "$I_DEMO_DOMAIN (ESTUARY_DEMO_DOMAIN is read when" \
			    "an instance is created)"
		fi
		return 0
	fi
	I_DEMO_DOMAIN=${ESTUARY_DEMO_DOMAIN:-$INST_DEMO_DOMAIN_DEFAULT}
	if ! inst_demo_domain_ok "$I_DEMO_DOMAIN"; then
		inst_err "ESTUARY_DEMO_DOMAIN: not a lower-case DNS name of" \
		    "two labels or more: $I_DEMO_DOMAIN"
		return 1
	fi
	inst_write_env
}

# inst_demo_host SERVER: the host name of a demo EST server (est01, est02,
# wisunest01).
inst_demo_host() {
	printf '%s.%s\n' "$1" "$I_DEMO_DOMAIN"
}

# inst_demo_tls_dns: the DNS names the web server's certificate covers,
# one a line.
inst_demo_tls_dns() {
	printf '%s\n' localhost "*.$I_DEMO_DOMAIN" "$(inst_demo_host est01)" \
	    "$(inst_demo_host est02)" "$(inst_demo_host wisunest01)"
}

# inst_demo_tls_san: the subjectAltName value of the web server's
# certificate.
inst_demo_tls_san() {
	local d san='IP:127.0.0.1, IP:::1'

	while IFS= read -r d; do
		san="$san, DNS:$d"
	done < <(inst_demo_tls_dns)
	printf '%s\n' "$san"
}

# inst_demo_tls_current: does the web server's certificate cover exactly
# the names inst_demo_tls_dns lists?
inst_demo_tls_current() {
	local have want

	have=$(openssl x509 -in "$I_TLS/server.pem" -noout \
	    -ext subjectAltName 2>/dev/null | tr ',' '\n' |
	    sed -n 's/^[[:space:]]*DNS://p' | sort) || return 1
	want=$(inst_demo_tls_dns | sort)
	[ -n "$have" ] && [ "$have" = "$want" ]
}

# --- files ---------------------------------------------------------------------

# inst_demo_dir: DIR/demo, the demo clients' keys and certificates.
inst_demo_dir() {
	printf '%s/demo\n' "$INST"
}

# _demo_key FILE TYPE: a new private key (ec-p256 or rsa-2048) in FILE,
# mode 0600 from the start.
_demo_key() {
	local alg

	case $2 in
	ec-p256) alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
	rsa-2048) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
	*) return 1 ;;
	esac
	(umask 077 && openssl genpkey "${alg[@]}" -out "$1.tmp" 2>/dev/null) &&
	    mv -f "$1.tmp" "$1"
}

# _demo_csr KEY CN: a PEM request of KEY for CN on stdout.
_demo_csr() {
	openssl req -new -key "$1" -subj "/CN=$2" 2>/dev/null
}

# _demo_fp FILE: SHA-256 of the DER of the PEM certificate FILE, lower hex.
_demo_fp() {
	openssl x509 -in "$1" -outform DER 2>/dev/null | sha256sum |
	    cut -d' ' -f1
}

# _demo_pair_ok BASE: BASE.pem and BASE.key exist and belong together.
_demo_pair_ok() {
	[ -s "$1.pem" ] && [ -s "$1.key" ] &&
	    [ "$(openssl x509 -in "$1.pem" -noout -pubkey 2>/dev/null)" = \
	    "$(openssl pkey -in "$1.key" -pubout 2>/dev/null)" ]
}

# --- REST helpers -------------------------------------------------------------

_demo_uri() {
	jq -rn --arg s "$1" '$s|@uri'
}

# _demo_post_empty PATH: POST without a body, as inst_api; prints the body.
_demo_post_empty() {
	local code

	code=$(curl -sS -o "$_INST_API_OUT" -w '%{http_code}' \
	    --cacert "$I_TLS/ca.pem" -b "$_INST_API_JAR" -c "$_INST_API_JAR" \
	    -H "X-CSRF-Token: $_INST_API_CSRF" -H 'Content-Length: 0' \
	    -X POST "https://127.0.0.1:$I_PORT$1") || return 1
	cat "$_INST_API_OUT"
	[ "${code:0:1}" = 2 ] || {
		inst_err "POST $1: HTTP $code: $(cat "$_INST_API_OUT")"
		return 1
	}
}

# _demo_find PATH VALUE [FIELD]: the id of the first item of GET PATH whose
# FIELD (default name) is VALUE, or nothing.
_demo_find() {
	local out

	out=$(inst_api GET "$1") || return 1
	jq -r --arg v "$2" --arg f "${3:-name}" \
	    '[.items[] | select(.[$f] == $v)][0].id // empty' <<<"$out"
}

# _demo_ensure LIST-PATH NAME CREATE-PATH JSON: the id of the object named
# NAME that GET LIST-PATH lists, created with POST CREATE-PATH JSON when
# it is missing.
_demo_ensure() {
	local id out

	id=$(_demo_find "$1" "$2") || return 1
	if [ -z "$id" ]; then
		out=$(inst_api POST "$3" "$4") &&
		    id=$(jq -er .id <<<"$out") || return 1
		_demo_made
	fi
	printf '%s\n' "$id"
}

# _demo_made: counts one object made (in a file: most callers run in a
# command substitution's subshell).
_demo_made() {
	echo >>"$_DEMO_MADE"
}

# --- the objects --------------------------------------------------------------

# _demo_ca NAME KEY-TYPE: an issuing CA of the demo tenant under the demo
# root CA, key in the token; prints its id.
_demo_ca() {
	_demo_ensure "/api/v1/cas?name=$(_demo_uri "$1")" "$1" /api/v1/cas \
	    "$(jq -nc --arg n "$1" --arg k "$2" --argjson p "$_DEMO_ROOT" \
		--argjson t "$_DEMO_TENANT" '{name: $n, kind: "issuing",
		parent_id: $p, key_type: $k, subject: "CN=\($n),O=Estuary",
		validity_days: 1825, path_len: 0, scope: "tenant",
		tenant_id: $t}')"
}

# _demo_template NAME TYPE CA KEY-TYPE: a certificate template of the demo
# tenant with CN (required) and O (optional), server key generation on;
# prints its id.
_demo_template() {
	local ku='["digitalSignature"]'

	[ "$4" = rsa-2048 ] && ku='["digitalSignature", "keyEncipherment"]'
	_demo_ensure \
	    "/api/v1/cert-templates?name=$(_demo_uri "$1")&tenant_id=$_DEMO_TENANT" \
	    "$1" /api/v1/cert-templates "$(jq -nc --arg n "$1" --arg ty "$2" \
		--argjson ca "$3" --arg k "$4" --argjson ku "$ku" \
		--argjson t "$_DEMO_TENANT" '{name: $n, type: $ty, ca_id: $ca,
		validity_days: (if $ty == "factory" then 1095 else 365 end),
		scope: "tenant", tenant_id: $t, key_types: [$k],
		server_keygen: true, keygen_key_type: $k,
		key_retention_days: 0, digest: "sha256", key_usage: $ku,
		extended_key_usage: ["clientAuth"],
		subject_fields: [
		    {attribute: "CN", rule: "required", max_length: 64},
		    {attribute: "O", rule: "optional", max_length: 64}]}')"
}

# _demo_cn_field TEMPLATE: the id of the CN field of a template.
_demo_cn_field() {
	inst_api GET "/api/v1/cert-templates/$1" |
	    jq -er '[.subject_fields[] | select(.attribute == "CN")][0].id'
}

# _demo_devtype NAME JSON: a device type of the demo organization (JSON
# holds the rest of its body); prints its id.
_demo_devtype() {
	_demo_ensure "/api/v1/device-types?name=$(_demo_uri "$1")&org_id=$_DEMO_ORG" \
	    "$1" /api/v1/device-types "$(jq -c --arg n "$1" \
		--argjson o "$_DEMO_ORG" '. + {name: $n, org_id: $o}' <<<"$2")"
}

# _demo_internal_type NAME FACTORY-TEMPLATE OPERATIONAL-TEMPLATE: auto-
# registration on, CN from the device name in both templates (and the
# device named by reverse mapping of the factory subject).
_demo_internal_type() {
	local fcn ocn

	fcn=$(_demo_cn_field "$2") && ocn=$(_demo_cn_field "$3") &&
	    _demo_devtype "$1" "$(jq -nc --argjson ft "$2" --argjson ot "$3" \
		--argjson fcn "$fcn" --argjson ocn "$ocn" '{
		description: "EST demo (guide §2.3.7.4)", dar: true,
		enforce_factory_mode: false, use_cert_mapping: true,
		operational_templates: [{template_id: $ot, default: true}],
		factory_source: "internal", factory_template_id: $ft,
		mappings: [{subject_field_id: $fcn, source: "device_name"},
		    {subject_field_id: $ocn, source: "device_name"}]}')"
}

# _demo_ext_ca: the external factory CA: a self-signed EC P-256 CA made by
# openssl (DIR/demo/ext-ca.pem and .key, so that tests can mint factory
# certificates for devices that do not exist yet), registered verified in
# the demo tenant; prints its id.
_demo_ext_ca() {
	local d id out fp have

	d=$(inst_demo_dir)
	id=$(_demo_find "/api/v1/external-cas?name=$(_demo_uri \
	    "$INST_DEMO_EXT_CA")&tenant_id=$_DEMO_TENANT" \
	    "$INST_DEMO_EXT_CA") || return 1
	if ! _demo_pair_ok "$d/ext-ca"; then
		if [ -n "$id" ]; then
			inst_err "demo: the external CA \"$INST_DEMO_EXT_CA\"" \
			    "exists but its key $d/ext-ca.key is gone;" \
			    "delete the CA (and its device type) or start over"
			return 1
		fi
		if ! { _demo_key "$d/ext-ca.key" ec-p256 &&
		    openssl req -x509 -new -key "$d/ext-ca.key" -days 3650 \
			-subj "/O=Estuary development/CN=$INST_DEMO_EXT_CA $(openssl rand -hex 4)" \
			-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out "$d/ext-ca.pem.tmp" 2>/dev/null &&
		    mv -f "$d/ext-ca.pem.tmp" "$d/ext-ca.pem"; }; then
			inst_err "demo: openssl cannot make the external CA"
			return 1
		fi
	fi
	if [ -z "$id" ]; then
		out=$(inst_api POST /api/v1/external-cas "$(jq -nc \
		    --arg n "$INST_DEMO_EXT_CA" --rawfile c "$d/ext-ca.pem" \
		    --argjson t "$_DEMO_TENANT" '{name: $n, certificate: $c,
		    tenant_id: $t, verified: true,
		    description: "EST demo: factory CA of the label ext"}')") &&
		    id=$(jq -er .id <<<"$out") || return 1
		_demo_made
	else
		# The registered CA must be the one whose key is here.
		fp=$(_demo_fp "$d/ext-ca.pem")
		have=$(inst_api GET "/api/v1/external-cas/$id" |
		    jq -r '.certificate // empty') || return 1
		if [ "$(printf '%s\n' "$have" | openssl x509 -outform DER \
		    2>/dev/null | sha256sum | cut -d' ' -f1)" != "$fp" ]; then
			inst_err "demo: the external CA \"$INST_DEMO_EXT_CA\"" \
			    "is not the one in $d/ext-ca.pem"
			return 1
		fi
	fi
	printf '%s\n' "$id"
}

# _demo_app: the API application, its AppID and AppKey in
# DIR/demo/app.env (made again by rotating the key when the file is
# gone) and its TLS client certificate in DIR/demo/app.pem and .key (the
# PKCS#12, downloadable once, is opened here); prints its id.
_demo_app() {
	local d id out pass

	d=$(inst_demo_dir)
	id=$(_demo_find "/api/v1/applications?name=$(_demo_uri \
	    "$INST_DEMO_APP")&tenant_id=$_DEMO_TENANT" "$INST_DEMO_APP") ||
	    return 1
	if [ -z "$id" ]; then
		out=$(inst_api POST /api/v1/applications "$(jq -nc \
		    --arg n "$INST_DEMO_APP" --argjson t "$_DEMO_TENANT" \
		    '{name: $n, tenant_id: $t, role: "tenant_operator",
		    description: "EST demo: accepted by est01, est02 and wisunest01"}')") ||
		    return 1
		_demo_made
	elif [ ! -s "$d/app.env" ]; then
		out=$(_demo_post_empty "/api/v1/applications/$id/rotate") ||
		    return 1
		inst_say "EST demo: a new AppKey for \"$INST_DEMO_APP\"" \
		    "($d/app.env was missing)"
	fi
	if [ -n "${out:-}" ]; then
		id=$(jq -er .id <<<"$out") || return 1
		(umask 077 && jq -er '"\(.app_id) \(.app_key)"' \
		    <<<"$out" >"$d/app.env.tmp") &&
		    mv -f "$d/app.env.tmp" "$d/app.env" || return 1
	fi
	_demo_pair_ok "$d/app" && {
		printf '%s\n' "$id"
		return 0
	}
	[ -s "$d/app.pem" ] &&
	    inst_say "EST demo: a new certificate for \"$INST_DEMO_APP\"" \
		"($d/app.key was missing or did not match)"
	# A new certificate (the previous one is revoked), its PKCS#12
	# under a passphrase that lives only in a file of ours.
	pass=$(openssl rand -hex 24) || return 1
	(umask 077 && printf '%s\n' "$pass" >"$d/app.pass" &&
	    jq -nc --arg p "$pass" '{passphrase: $p}' >"$d/app.pfx.json") &&
	    inst_api POST "/api/v1/applications/$id/certificate" \
		'{"key_type": "ec-p256"}' >/dev/null &&
	    (umask 077 && inst_api POST \
		"/api/v1/applications/$id/certificate/pfx" \
		"@$d/app.pfx.json" >"$d/app.p12") &&
	    (umask 077 && openssl pkcs12 -in "$d/app.p12" \
		-passin "file:$d/app.pass" -nocerts -nodes 2>/dev/null |
		openssl pkey -out "$d/app.key.tmp") &&
	    openssl pkcs12 -in "$d/app.p12" -passin "file:$d/app.pass" \
		-clcerts -nokeys 2>/dev/null |
		openssl x509 -out "$d/app.pem.tmp" &&
	    mv -f "$d/app.key.tmp" "$d/app.key" &&
	    mv -f "$d/app.pem.tmp" "$d/app.pem"
	out=$?
	rm -f "$d/app.pass" "$d/app.pfx.json" "$d/app.p12" "$d/app.key.tmp" \
	    "$d/app.pem.tmp"
	[ "$out" -eq 0 ] || {
		inst_err "demo: cannot get the application's certificate"
		return 1
	}
	printf '%s\n' "$id"
}

# _demo_device NAME TYPE KEY-TYPE KIND BASE [DAYS]: a device of the demo
# organization with a certificate of KIND (factory or operational, valid
# DAYS days) whose key and certificate are BASE.key and BASE.pem.  The
# device is made with it; an existing device whose file is gone, or
# whose certificate is no longer active, gets a new certificate.
_demo_device() {
	local name=$1 type=$2 kt=$3 kind=$4 base=$5 days=${6:-} id out
	local body fp

	id=$(_demo_find \
	    "/api/v1/devices?name=$(_demo_uri "$name")&tenant_id=$_DEMO_TENANT" \
	    "$name") || return 1
	if [ -n "$id" ] && _demo_pair_ok "$base"; then
		fp=$(_demo_fp "$base.pem")
		out=$(inst_api GET "/api/v1/devices/$id") || return 1
		jq -e --arg f "$fp" --arg k "$kind" 'any(.certificates[];
		    .fingerprint == $f and .kind == $k and .status == "active")' \
		    <<<"$out" >/dev/null && return 0
	fi
	_demo_key "$base.key" "$kt" || return 1
	body=$(jq -nc --arg c "$(_demo_csr "$base.key" "$name")" \
	    --argjson d "${days:-null}" \
	    '{csr: $c} + (if $d then {validity_days: $d} else {} end)') ||
	    return 1
	if [ -z "$id" ]; then
		out=$(inst_api POST /api/v1/devices "$(jq -nc --arg n "$name" \
		    --argjson o "$_DEMO_ORG" --argjson t "$type" \
		    --arg k "${kind}_certificate" --argjson c "$body" \
		    '{name: $n, org_id: $o, device_type_id: $t,
		    description: "EST demo device"} + {($k): $c}')") || return 1
		_demo_made
	else
		out=$(inst_api POST "/api/v1/devices/$id/certificates" \
		    "$(jq -c --arg k "$kind" '. + {kind: $k}' <<<"$body")") ||
		    return 1
		inst_say "EST demo: a new $kind certificate for $name in" \
		    "$base.pem (the file was missing or its certificate no" \
		    "longer active)"
	fi
	jq -er --arg k "$kind" \
	    '[.certificates[] | select(.kind == $k and .pem)][0].pem' \
	    <<<"$out" >"$base.pem.tmp" && mv -f "$base.pem.tmp" "$base.pem"
}

# _demo_server HOST JSON: an EST server of the demo organization for HOST
# (JSON holds the rest of its body); prints its id.
_demo_server() {
	local id out

	id=$(_demo_find "/api/v1/est-servers?domain=$(_demo_uri "$1")" "$1" \
	    domain) || return 1
	if [ -z "$id" ]; then
		out=$(inst_api POST /api/v1/est-servers "$(jq -c --arg h "$1" \
		    --argjson t "$_DEMO_TENANT" --argjson o "$_DEMO_ORG" \
		    --argjson a "$_DEMO_APP_ID" '. + {domain: $h, tenant_id: $t,
		    org_id: $o, server_keygen: true,
		    auth: {device_password: true, factory_cert: true,
			app_key: true, app_cert: true},
		    applications: [{id: $a}]}' <<<"$2")") &&
		    id=$(jq -er .id <<<"$out") || return 1
		_demo_made
	fi
	printf '%s\n' "$id"
}

# _demo_label SERVER LABEL DEVICE-TYPE: a label of a dps server.
_demo_label() {
	local out

	out=$(inst_api GET "/api/v1/est-servers/$1/labels") || return 1
	jq -e --arg l "$2" 'any(.items[]; .label == $l)' <<<"$out" \
	    >/dev/null && return 0
	inst_api POST "/api/v1/est-servers/$1/labels" "$(jq -nc --arg l "$2" \
	    --argjson t "$3" '{label: $l, device_type_id: $t}')" >/dev/null &&
	    _demo_made
}

# --- the whole ----------------------------------------------------------------

# _demo_est_objects: everything, in the order each part needs, in the
# admin session inst_demo_est opened.
_demo_est_objects() {
	local d fca_ec fca_rsa ot_ec ot_rsa ft_ec ft_rsa ext wisun issuing
	local dt_ec dt_rsa dt_ext est01 ocn

	d=$(inst_demo_dir)
	_DEMO_TENANT=$(inst_api GET "/api/v1/tenants?name=$(_demo_uri \
	    "$INST_TENANT")" | jq -er '.items[0].id') &&
	_DEMO_ORG=$(inst_api GET "/api/v1/organizations?name=$(_demo_uri \
	    "$INST_ORG")&tenant_id=$_DEMO_TENANT" | jq -er '.items[0].id') &&
	_DEMO_ROOT=$(inst_api GET "/api/v1/cas?name=$(_demo_uri \
	    "$INST_ROOT_CA")" | jq -er '.items[0].id') &&
	issuing=$(inst_api GET "/api/v1/cas?name=$(_demo_uri \
	    "$INST_ISSUING_CA")" | jq -er '.items[0].id') || return 1

	fca_ec=$(_demo_ca "$INST_DEMO_FACTORY_CA_EC" ec-p256) &&
	fca_rsa=$(_demo_ca "$INST_DEMO_FACTORY_CA_RSA" rsa-2048) &&
	ot_ec=$(_demo_template "Demo EST operational EC P-256" operational \
	    "$issuing" ec-p256) &&
	ot_rsa=$(_demo_template "Demo EST operational RSA 2048" operational \
	    "$issuing" rsa-2048) &&
	ft_ec=$(_demo_template "Demo EST factory EC P-256" factory \
	    "$fca_ec" ec-p256) &&
	ft_rsa=$(_demo_template "Demo EST factory RSA 2048" factory \
	    "$fca_rsa" rsa-2048) &&
	ext=$(_demo_ext_ca) || return 1
	# lighttpd hands a client certificate to estuary-est only when it
	# verifies against the client-CA file: the new factory CAs join it
	# (a restart of the web server when the file changed).
	inst_ctl_quiet tls client-ca --reload || return 1

	dt_ec=$(_demo_internal_type "Demo EST EC P-256" "$ft_ec" "$ot_ec") &&
	dt_rsa=$(_demo_internal_type "Demo EST RSA 2048" "$ft_rsa" \
	    "$ot_rsa") &&
	ocn=$(_demo_cn_field "$ot_ec") &&
	dt_ext=$(_demo_devtype "Demo EST external factory" "$(jq -nc \
	    --argjson x "$ext" --argjson ot "$ot_ec" --argjson ocn "$ocn" '{
	    description: "EST demo: devices of the label ext", dar: true,
	    enforce_factory_mode: false, factory_source: "external",
	    external_ca_id: $x,
	    operational_templates: [{template_id: $ot, default: true}],
	    mappings: [{subject_field_id: $ocn, source: "device_name"}]}')") &&
	_DEMO_APP_ID=$(_demo_app) &&
	wisun=$(jq -r .name "$SRCDIR/docs/templates/wisun-fan.json") &&
	wisun=$(inst_api GET "/api/v1/cert-templates?name=$(_demo_uri \
	    "$wisun")&tenant_id=$_DEMO_TENANT" | jq -er '.items[0].id') ||
	    return 1

	est01=$(_demo_server "$(inst_demo_host est01)" "$(jq -nc \
	    --argjson t "$dt_ec" '{kind: "dps", device_type_id: $t,
	    description: "EST demo: EC P-256 (guide: est01)"}')") &&
	_demo_server "$(inst_demo_host est02)" "$(jq -nc \
	    --argjson t "$dt_rsa" '{kind: "dps", device_type_id: $t,
	    description: "EST demo: RSA 2048 (guide: est02)"}')" >/dev/null &&
	_demo_server "$(inst_demo_host wisunest01)" "$(jq -nc \
	    --argjson t "$wisun" '{kind: "cms",
	    templates: [{template_id: $t, default: true}],
	    description: "EST demo: Wi-SUN FAN (guide: wisunest01)"}')" \
	    >/dev/null &&
	_demo_label "$est01" "$INST_DEMO_EXT_LABEL" "$dt_ext" || return 1

	_demo_device demo-est01-factory "$dt_ec" ec-p256 factory \
	    "$d/factory-ec" &&
	_demo_device demo-est02-factory "$dt_rsa" rsa-2048 factory \
	    "$d/factory-rsa" &&
	_demo_device demo-est01-operational "$dt_ec" ec-p256 operational \
	    "$d/operational-ec" 1 &&
	_demo_device demo-est02-operational "$dt_rsa" rsa-2048 operational \
	    "$d/operational-rsa" 1
}

# inst_demo_est: the EST demo configuration (see the top of this file).
inst_demo_est() {
	local tmp d pw body made rc=1

	d=$(inst_demo_dir)
	mkdir -p "$d" && chmod 700 "$d" || return 1
	inst_demo_domain_init || return 1
	tmp=$(mktemp -d) || return 1
	_INST_API_JAR=$tmp/jar
	_INST_API_OUT=$tmp/out
	_INST_API_CSRF=
	_DEMO_MADE=$tmp/made
	: >"$_DEMO_MADE"
	IFS= read -r pw <"$I_ETC/admin.pw" || return 1
	body=$(jq -nc --arg u "$INST_ADMIN" --arg p "$pw" \
	    '{username: $u, password: $p}')
	if _INST_API_CSRF=$(inst_api POST /api/v1/auth/login "$body" |
	    jq -er .csrf_token) && _demo_est_objects; then
		rc=0
	fi
	made=$(wc -l <"$_DEMO_MADE")
	rm -rf "$tmp"
	chmod 600 "$d"/*.key 2>/dev/null
	if [ "$rc" -ne 0 ]; then
		inst_err "demo: the EST demo configuration is incomplete"
		return 1
	fi
	inst_say "EST demo: $(inst_demo_host est01), $(inst_demo_host est02)" \
	    "(label $INST_DEMO_EXT_LABEL), $(inst_demo_host wisunest01)" \
	    "($made objects made; files in $d)"
}

# inst_demo_est_env: the demo.env lines of the EST demo (inst_env_line),
# the same on every run.
inst_demo_est_env() {
	local d app_id='' app_key=''

	d=$(inst_demo_dir)
	[ -s "$d/app.env" ] && read -r app_id app_key <"$d/app.env"
	inst_env_line ESTUARY_DEMO_DOMAIN "$I_DEMO_DOMAIN"
	inst_env_line ESTUARY_EST_PORT "$I_PORT"
	inst_env_line ESTUARY_EST_EC_HOST "$(inst_demo_host est01)"
	inst_env_line ESTUARY_EST_RSA_HOST "$(inst_demo_host est02)"
	inst_env_line ESTUARY_EST_WISUN_HOST "$(inst_demo_host wisunest01)"
	inst_env_line ESTUARY_APP_ID "$app_id"
	inst_env_line ESTUARY_APP_KEY "$app_key"
	inst_env_line ESTUARY_APP_CERT "$d/app.pem"
	inst_env_line ESTUARY_APP_CERT_KEY "$d/app.key"
	inst_env_line ESTUARY_FACTORY_EC_CERT "$d/factory-ec.pem"
	inst_env_line ESTUARY_FACTORY_EC_KEY "$d/factory-ec.key"
	inst_env_line ESTUARY_FACTORY_RSA_CERT "$d/factory-rsa.pem"
	inst_env_line ESTUARY_FACTORY_RSA_KEY "$d/factory-rsa.key"
	inst_env_line ESTUARY_OPERATIONAL_EC_CERT "$d/operational-ec.pem"
	inst_env_line ESTUARY_OPERATIONAL_EC_KEY "$d/operational-ec.key"
	inst_env_line ESTUARY_OPERATIONAL_RSA_CERT "$d/operational-rsa.pem"
	inst_env_line ESTUARY_OPERATIONAL_RSA_KEY "$d/operational-rsa.key"
	inst_env_line ESTUARY_EXT_LABEL "$INST_DEMO_EXT_LABEL"
	inst_env_line ESTUARY_EXT_FACTORY_CA_CERT "$d/ext-ca.pem"
	inst_env_line ESTUARY_EXT_FACTORY_CA_KEY "$d/ext-ca.key"
}

# inst_demo_est_show: what ./devstack up shows of the EST demo: the CA
# certificates est01 hands out (cacerts) and one enrollment there
# (simpleenroll of a new EC P-256 key's request, with the demo
# application's AppID and AppKey), the way a client reaches the demo
# names: curl --resolve to 127.0.0.1.  Non-zero, with the reason, when
# either fails.
inst_demo_est_show() {
	local host tmp code rc=1 app_id app_key
	local est=()

	host=$(inst_demo_host est01)
	tmp=$(mktemp -d) || return 1
	est=(curl -sS --cacert "$I_TLS/ca.pem"
	    --resolve "$host:$I_PORT:127.0.0.1")
	if ! code=$("${est[@]}" -o "$tmp/cacerts" -w '%{http_code}' \
	    "https://$host:$I_PORT/.well-known/est/cacerts") ||
	    [ "$code" != 200 ] ||
	    ! base64 -d "$tmp/cacerts" 2>/dev/null |
	    openssl pkcs7 -inform DER -print_certs -out "$tmp/cacerts.pem" \
		2>/dev/null; then
		inst_err "EST: GET https://$host:$I_PORT/.well-known/est/cacerts:" \
		    "HTTP ${code:-000}"
		rm -rf "$tmp"
		return 1
	fi
	inst_say "EST cacerts of $host:"
	grep -E '^(subject|issuer)=' "$tmp/cacerts.pem"
	# The AppKey goes to curl in a file of ours, not on its command line.
	code=
	read -r app_id app_key <"$(inst_demo_dir)/app.env" &&
	(umask 077 && printf 'user = "%s:%s"\n' "$app_id" "$app_key" \
	    >"$tmp/auth") &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$tmp/key" -subj "/CN=devstack-demo" -outform DER \
	    -out "$tmp/csr" 2>/dev/null &&
	base64 "$tmp/csr" >"$tmp/csr.b64" &&
	code=$("${est[@]}" -K "$tmp/auth" -o "$tmp/cert" -w '%{http_code}' \
	    -H 'Content-Type: application/pkcs10' --data-binary "@$tmp/csr.b64" \
	    "https://$host:$I_PORT/.well-known/est/simpleenroll") &&
	[ "$code" = 200 ] &&
	base64 -d "$tmp/cert" 2>/dev/null |
	    openssl pkcs7 -inform DER -print_certs -out "$tmp/cert.pem" \
		2>/dev/null &&
	rc=0
	if [ "$rc" -eq 0 ]; then
		inst_say "EST simpleenroll at $host (HTTP Basic, the demo" \
		    "application's AppID and AppKey):"
		openssl x509 -in "$tmp/cert.pem" -noout -subject -issuer \
		    -enddate
	else
		inst_err "EST: POST https://$host:$I_PORT/.well-known/est/simpleenroll:" \
		    "HTTP ${code:-000}"
	fi
	rm -rf "$tmp"
	return "$rc"
}
