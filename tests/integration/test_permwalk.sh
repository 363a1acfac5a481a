#!/bin/bash
#
# The permission matrix over HTTPS: every role x every entity that has
# endpoints (tenant, organization, user, api_application, audit_log,
# report) x every action the API exposes for it x a target in the actor's
# own organization (A1), in another organization of its tenant (A2) and in
# another tenant (B1/B), with the exact status the matrix of
# docs/permissions.md gives.  The expected outcomes are written out by hand
# in permwalk/expect.txt (see its header), not computed by the code under
# test.
#
# Actors.  The tenant roles (Tenant Admin, Tenant Auditor, Tenant Operator
# of tenant A, Organization Operator of A1) are API applications made with
# estuaryctl and speak HTTP Basic, so that the walk pays no password hash
# per request; Admin and Auditor cannot be applications (an application
# has a tenant role), so they walk with a session cookie and CSRF token.
# A part of the walk is run again with a session of a user of each tenant
# role, to show that both ways in reach the same table.
#
# Every refused request changes nothing: for a change, the target is read
# as the Admin before and after (body and ETag compared); for a create, the
# number of objects where it would have gone, as the Admin sees them, is
# compared.  An allowed delete, deactivate or revoke works on a throwaway
# object made by the Admin at the same place, and an allowed activate on an
# object the Admin deactivated first, so that every check starts from a
# known state and the shared targets stay usable.  Names carry a per-run
# suffix so that the script can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

EXPECT=$(dirname "$0")/permwalk/expect.txt
RUN=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
P="pw-$RUN"
PW="pw-$RUN-Secret-Password"
API=/api/v1

ROLES=(admin auditor tenant_admin tenant_auditor tenant_operator org_operator)
REPORTS=(certificates-by-status certificates-by-ca certificates-expiring
	devices-by-mode devices-by-type enrollments-per-day)

declare -A BASE=(
	[tenant]=$API/tenants
	[organization]=$API/organizations
	[user]=$API/users
	[api_application]=$API/applications
)
# The success status of each action.
declare -A OK=(
	[list]=200 [read]=200 [cert]=200 [create]=201 [update]=200
	[delete]=204 [activate]=200 [deactivate]=200 [password]=200
	[certificate]=200 [uncertificate]=204 [rotate]=200 [revoke]=200
	[issue]=201 [pfx]=200 [export]=200
)
declare -A ID	 # "entity:target" -> id of the shared target object
declare -A NAME	 # "entity:target" -> its name
declare -A AUTH	 # actor -> "basic:AppID:AppKey" or "jar"
declare -A ACTOR # role -> actor of the main walk
SEQ=0

ctl() {
	"$ESTUARY_CTL" -c "$ESTUARY_CONF" "$@"
}

die() {
	echo "setup: $*"
	t_fail "setup" "$*"
	finish
	exit 1
}

seq_next() {
	SEQ=$((SEQ + 1))
}

# call ACTOR METHOD PATH [JSON] [curl options...]: one request as ACTOR;
# prints the status (body and headers as lib.sh's http leaves them).
call() {
	local who=$1 method=$2 path=$3 args=()

	shift 3
	case ${AUTH[$who]} in
	basic:*) args=(-u "${AUTH[$who]#basic:}") ;;
	jar)
		args=(-b "$T_TMP/$who.jar"
		    -H "X-CSRF-Token: $(<"$T_TMP/$who.csrf")")
		;;
	*) return 1 ;;
	esac
	if [ $# -gt 0 ] && [ "${1:0:1}" = '{' ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$1")
		shift
	elif [ "$method" != GET ] && [ "$method" != DELETE ]; then
		args+=(-H 'Content-Length: 0')
	fi
	http "$method" "$path" "${args[@]}" "$@"
}

# adm METHOD PATH [JSON] [curl options...]: as the Admin.
adm() {
	call admin "$@"
}

# login ACTOR USERNAME PASSWORD: a session for ACTOR (cookie jar and CSRF
# token in files); prints the status.  Runs in a subshell: the caller sets
# AUTH[ACTOR]=jar.
login() {
	local code

	code=$(http POST $API/auth/login -c "$T_TMP/$1.jar" \
	    -H 'Content-Type: application/json' \
	    --data-binary "$(jq -nc --arg u "$2" --arg p "$3" \
		'{username: $u, password: $p}')")
	jq -r '.csrf_token // empty' "$T_TMP/body" >"$T_TMP/$1.csrf"
	printf '%s' "$code"
}

# new_id: the id at the end of the Location of the last 201.
new_id() {
	local loc

	loc=$(header Location)
	printf '%s' "${loc##*/}"
}

# items: the number of items of the last list answer.
items() {
	jq -r '.items | length' "$T_TMP/body" 2>/dev/null
}

# tenant_of TARGET, org_of TARGET: where a target lives.
tenant_of() {
	printf '%s' "${ID[tenant:${1:0:1}]}"
}

org_of() {
	printf '%s' "${ID[organization:$1]}"
}

# --- object bodies ----------------------------------------------------

# body_new ENTITY TARGET NAME: the JSON that creates ENTITY at TARGET.
body_new() {
	local t o

	case $1 in
	tenant)
		jq -nc --arg n "$3" '{name: $n}'
		;;
	organization)
		jq -nc --arg n "$3" --argjson t "$(tenant_of "$2")" \
		    '{name: $n, tenant_id: $t}'
		;;
	user)
		if [ "$2" = SYS ]; then
			jq -nc --arg n "$3" --arg p "$PW" \
			    '{username: $n, role: "auditor", password: $p}'
			return
		fi
		t=$(tenant_of "$2")
		o=$(org_of "$2")
		jq -nc --arg n "$3" --arg p "$PW" --argjson t "$t" \
		    --argjson o "$o" '{username: $n, role: "org_operator",
			tenant_id: $t, org_id: $o, password: $p}'
		;;
	api_application)
		t=$(tenant_of "$2")
		o=$(org_of "$2")
		jq -nc --arg n "$3" --argjson t "$t" --argjson o "$o" \
		    '{name: $n, role: "org_operator", tenant_id: $t,
			org_id: $o}'
		;;
	esac
}

# mkobj ENTITY TARGET NAME: the Admin creates ENTITY at TARGET; prints its id.
mkobj() {
	local code

	code=$(adm POST "${BASE[$1]}" "$(body_new "$1" "$2" "$3")")
	[ "$code" = 201 ] || return 1
	new_id
}

# throwaway ENTITY TARGET: a fresh object where the target lives (a tenant
# for a tenant, an organization of the target's tenant for an
# organization, an object in the target's organization otherwise).
# Runs in a subshell: the caller advances SEQ.
throwaway() {
	mkobj "$1" "$2" "$P-x$SEQ"
}

# count ENTITY TARGET: how many objects the Admin sees where a create at
# TARGET puts the new one.
count() {
	local q

	case $1:$2 in
	tenant:*) q="?name_prefix=$P&limit=500" ;;
	organization:*) q="?tenant_id=$(tenant_of "$2")&limit=500" ;;
	user:SYS) q="?role=auditor&limit=500" ;;
	*) q="?org_id=$(org_of "$2")&limit=500" ;;
	esac
	[ "$(adm GET "${BASE[$1]}$q")" = 200 ] || return 1
	items
}

# snap PATH FILE: the Admin's view of PATH (status, ETag, body) into FILE.
snap() {
	local code

	code=$(adm GET "$1")
	{
		printf '%s\n' "$code"
		header ETag
		cat "$T_TMP/body"
	} >"$2"
}

# etag_of FILE: the ETag of a snapshot.
etag_of() {
	sed -n 2p "$1"
}

# --- the checks -------------------------------------------------------

# verdict DESC EXPECTED GOT [REASON]: one check line.
verdict() {
	if [ "$2" = "$3" ] && [ -z "$4" ]; then
		t_pass "$1: $3"
	else
		t_fail "$1" "expected $2, got $3${4:+ ($4)}"
	fi
}

check_list() {
	local desc=$1 actor=$2 entity=$3 target=$4 exp=$5 key=name code n

	[ "$entity" = user ] && key=username
	# The names are URL-safe: pw-<hex>-<target>.
	code=$(call "$actor" GET \
	    "${BASE[$entity]}?$key=${NAME[$entity:$target]}")
	case $exp in
	ok | hid)
		n=$(items)
		if [ "$code" != 200 ]; then
			verdict "$desc" 200 "$code"
		elif [ "$exp" = ok ] && [ "$n" != 1 ]; then
			verdict "$desc" "200 listed" "200 with $n items"
		elif [ "$exp" = hid ] && [ "$n" != 0 ]; then
			verdict "$desc" "200 not listed" "200 with $n items"
		else
			verdict "$desc" "$exp" "$exp"
		fi
		;;
	*) verdict "$desc" "$exp" "$code" ;;
	esac
}

check_create() {
	local desc=$1 actor=$2 entity=$3 target=$4 exp=$5 before after code
	local want=$5 delta=0

	[ "$exp" = ok ] && want=201 && delta=1
	seq_next
	before=$(count "$entity" "$target")
	code=$(call "$actor" POST "${BASE[$entity]}" \
	    "$(body_new "$entity" "$target" "$P-c$SEQ")")
	after=$(count "$entity" "$target")
	if [ -z "$before" ] || [ "$after" != $((before + delta)) ]; then
		verdict "$desc" "$want" "$code" \
		    "the Admin counts $before objects before, $after after"
	else
		verdict "$desc" "$want" "$code"
	fi
}

# effect ACTION SNAPSHOT: why the Admin's view after an allowed change
# does not show it (nothing when it does).
effect() {
	local want got

	case $1 in
	delete) want=404 ;;
	activate) want='200 true' ;;
	deactivate) want='200 false' ;;
	revoke) want='200 true' ;;
	*) return 0 ;;
	esac
	got=$(head -n 1 "$2")
	if [ "$1" = activate ] || [ "$1" = deactivate ]; then
		got="$got $(tail -n +3 "$2" | jq -r .active)"
	elif [ "$1" = revoke ]; then
		got="$got $(tail -n +3 "$2" | jq -r .revoked)"
	fi
	[ "$got" = "$want" ] ||
	    printf 'the Admin sees %s afterwards, not %s' "$got" "$want"
}

# check_change DESC ACTOR ENTITY ACTION TARGET EXPECTED: a state change.
check_change() {
	local desc=$1 actor=$2 entity=$3 action=$4 target=$5 exp=$6
	local id=${ID[$3:$5]} want=$6 base=${BASE[$3]} path code why=''
	local m=POST sub='' body='' ifm=()
	local before=$T_TMP/before after=$T_TMP/after

	[ "$exp" = ok ] && want=${OK[$action]}
	seq_next
	# Prepare the object the action works on.
	if [ "$exp" = ok ]; then
		case $action in
		delete | deactivate | revoke)
			id=$(throwaway "$entity" "$target")
			;;
		activate)
			case $entity in
			tenant | organization)
				id=$(throwaway "$entity" "$target")
				;;
			esac
			[ -n "$id" ] &&
			    adm POST "$base/$id/deactivate" >/dev/null
			;;
		pfx)
			adm POST "$base/$id/certificate" >/dev/null
			;;
		esac
	fi
	if [ -z "$id" ]; then
		verdict "$desc" "$want" none "the Admin cannot make the object"
		return
	fi
	[ "$action" = uncertificate ] &&
	    adm PUT "$base/$id/certificate" "$CERT_BODY" >/dev/null
	case $action in
	update)
		m=PATCH
		[ "$entity" = api_application ] && m=PUT
		body=$(jq -nc --arg d "walk $SEQ" '{description: $d}')
		[ "$entity" = user ] &&
		    body=$(jq -nc --arg d "Walk $SEQ" '{full_name: $d}')
		;;
	delete) m=DELETE ;;
	activate | deactivate | rotate | revoke) sub=/$action ;;
	password) sub=/password body="{\"new_password\":\"$PW-$SEQ\"}" ;;
	certificate) m=PUT sub=/certificate body=$CERT_BODY ;;
	uncertificate) m=DELETE sub=/certificate ;;
	issue) sub=/certificate ;;
	pfx) sub=/certificate/pfx body="{\"passphrase\":\"$PW\"}" ;;
	esac
	path=$base/$id
	snap "$path" "$before"
	case $action in
	update | delete) ifm=(-H "If-Match: $(etag_of "$before")") ;;
	esac
	if [ -n "$body" ]; then
		code=$(call "$actor" "$m" "$path$sub" "$body" "${ifm[@]}")
	else
		code=$(call "$actor" "$m" "$path$sub" "${ifm[@]}")
	fi
	snap "$path" "$after"
	if [ "$exp" = ok ]; then
		why=$(effect "$action" "$after")
		# A failed activation leaves a shared target inactive.
		if [ "$action" = activate ] && [ "$code" != "$want" ]; then
			adm POST "$path/activate" >/dev/null
		fi
	elif [ "$(head -n 1 "$before")" != 200 ]; then
		why="the Admin cannot read the target"
	elif ! cmp -s "$before" "$after"; then
		why="the object changed: $(diff "$before" "$after" |
		    tr '\n' ' ' | cut -c1-300)"
		# Keep the shared target usable for the next checks.
		if [ "$action" = deactivate ]; then
			adm POST "$path/activate" >/dev/null
		fi
	fi
	# A certificate binding is left to nobody: the next check binds it.
	case $action in
	certificate | uncertificate)
		adm DELETE "$path/certificate" >/dev/null
		;;
	esac
	verdict "$desc" "$want" "$code" "$why"
}

# check_log DESC ACTOR ENTITY ACTION TARGET EXPECTED [REPORT]: audit log
# and reports, whose target is a tenant_id parameter.
check_log() {
	local desc=$1 actor=$2 entity=$3 action=$4 target=$5 exp=$6 rep=$7
	local want=$6 path q=() code why='' tid

	[ "$exp" = ok ] && want=200
	[ "$target" != ALL ] && q+=("tenant_id=$(tenant_of "$target")")
	if [ "$entity" = audit_log ]; then
		path=$API/audit-logs
		[ "$action" = export ] && path=$path/export
	else
		path=$API/reports/$rep
		[ "$action" = export ] && q+=(format=csv)
	fi
	if [ ${#q[@]} -gt 0 ]; then
		path="$path?$(IFS='&'; printf '%s' "${q[*]}")"
	fi
	code=$(call "$actor" GET "$path")
	# A tenant role's audit log holds its tenant's rows and nothing else.
	if [ "$code" = 200 ] && [ "$entity:$action" = audit_log:list ] &&
	    [ "${ACTOR_TENANT[$actor]}" ]; then
		tid=${ACTOR_TENANT[$actor]}
		jq -e --argjson t "$tid" '(.items | length) > 0 and
		    all(.items[]; .tenant_id == $t)' "$T_TMP/body" \
		    >/dev/null || why="rows of other tenants, or none"
	fi
	verdict "$desc" "$want" "$code" "$why"
}

# walk ROLE ACTOR ENTITY ACTION TARGET EXPECTED [LABEL]: one row of the
# table for one role.
walk() {
	local role=$1 actor=$2 entity=$3 action=$4 target=$5 exp=$6 rep
	local desc="$role${7:+ ($7)} $entity $action $target"

	case $entity:$action in
	*:list) [ "$entity" = audit_log ] ||
	    { check_list "$desc" "$actor" "$entity" "$target" "$exp"; return; }
	    ;;
	*:read | *:cert)
		if [ "$entity" != report ]; then
			local sub='' want=$exp
			[ "$action" = cert ] && sub=/certificate
			[ "$exp" = ok ] && want=200
			verdict "$desc" "$want" "$(call "$actor" GET \
			    "${BASE[$entity]}/${ID[$entity:$target]}$sub")"
			return
		fi
		;;
	*:create)
		check_create "$desc" "$actor" "$entity" "$target" "$exp"
		return
		;;
	esac
	case $entity in
	audit_log)
		check_log "$desc" "$actor" "$entity" "$action" "$target" "$exp"
		;;
	report)
		for rep in "${REPORTS[@]}"; do
			check_log \
			    "$role${7:+ ($7)} report/$rep $action $target" \
			    "$actor" report "$action" "$target" "$exp" "$rep"
		done
		;;
	*)
		check_change "$desc" "$actor" "$entity" "$action" "$target" \
		    "$exp"
		;;
	esac
}

# --- setup ------------------------------------------------------------

declare -A ACTOR_TENANT # actor -> its tenant id (tenant roles only)

AUTH[admin]=jar
[ "$(login admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")" = 200 ] ||
    die "the Admin cannot log in"
ACTOR[admin]='admin'

for t in A B; do
	NAME[tenant:$t]="$P-$t"
	ID[tenant:$t]=$(mkobj tenant NEW "${NAME[tenant:$t]}") ||
	    die "cannot create tenant $t"
done
for o in A1 A2 B1; do
	NAME[organization:$o]="$P-$o"
	ID[organization:$o]=$(mkobj organization "$o" \
	    "${NAME[organization:$o]}") ||
	    die "cannot create organization $o"
done
for o in A1 A2 B1; do
	NAME[user:$o]="$P-u$o"
	ID[user:$o]=$(mkobj user "$o" "${NAME[user:$o]}") ||
	    die "cannot create the user of $o"
	NAME[api_application:$o]="$P-a$o"
	ID[api_application:$o]=$(mkobj api_application "$o" \
	    "${NAME[api_application:$o]}") ||
	    die "cannot create the application of $o"
	# Its certificate, so that reading it and downloading its PKCS#12
	# are refused for the permission, not for the lack of one.
	code=$(adm POST \
	    "${BASE[api_application]}/${ID[api_application:$o]}/certificate")
	[ "$code" = 201 ] ||
	    die "cannot issue the certificate of the application of $o"
done

# The Auditor: a user (an application cannot have a system role).
[ "$(adm POST "${BASE[user]}" "$(jq -nc --arg n "$P-auditor" --arg p "$PW" \
    '{username: $n, role: "auditor", password: $p}')")" = 201 ] ||
    die "cannot create the auditor"
AUTH[auditor]=jar
[ "$(login auditor "$P-auditor" "$PW")" = 200 ] ||
    die "the auditor cannot log in"
ACTOR[auditor]=auditor

# The tenant roles: API applications made with estuaryctl, and users for
# the session part of the walk.
for role in tenant_admin tenant_auditor tenant_operator org_operator; do
	org=()
	[ "$role" = org_operator ] && org=(--org "${NAME[organization:A1]}")
	line=$(ctl app add --tenant "${NAME[tenant:A]}" "${org[@]}" \
	    --role "$role" --name "$P-$role") ||
	    die "estuaryctl app add $role failed"
	AUTH[app_$role]="basic:${line%%$'\t'*}:${line#*$'\t'}"
	ACTOR[$role]=app_$role
	ACTOR_TENANT[app_$role]=${ID[tenant:A]}
	body=$(jq -nc --arg n "$P-s-$role" --arg p "$PW" --arg r "$role" \
	    --argjson t "${ID[tenant:A]}" '{username: $n, role: $r,
		tenant_id: $t, password: $p}')
	[ "$role" = org_operator ] &&
	    body=$(jq -c --argjson o "${ID[organization:A1]}" '.org_id = $o' \
		<<<"$body")
	[ "$(adm POST "${BASE[user]}" "$body")" = 201 ] ||
	    die "cannot create the $role user"
	AUTH[s_$role]=jar
	[ "$(login "s_$role" "$P-s-$role" "$PW")" = 200 ] ||
	    die "the $role user cannot log in"
	ACTOR_TENANT[s_$role]=${ID[tenant:A]}
done

# A certificate to bind to users (certificate, uncertificate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T_TMP/user.key" -out "$T_TMP/user.pem" -days 2 \
    -subj "/CN=$P-user" 2>/dev/null || die "openssl cannot make a certificate"
CERT_BODY=$(jq -nc --rawfile c "$T_TMP/user.pem" '{certificate: $c}')

# Every actor is who the walk thinks it is.
for role in "${ROLES[@]}"; do
	for a in "${ACTOR[$role]}" ${ACTOR_TENANT[s_$role]:+s_$role}; do
		code=$(call "$a" GET $API/auth/me)
		got=$(jq -r '.user.role // .role // empty' "$T_TMP/body")
		check_eq "setup: $a authenticates as $role" "200 $role" \
		    "$code $got"
	done
done

# --- the walk ---------------------------------------------------------

# The main walk: every row of the table for every role.
while read -r entity action target cells; do
	case $entity in '' | '#'*) continue ;; esac
	read -r -a exp <<<"$cells"
	[ ${#exp[@]} -eq ${#ROLES[@]} ] || die "bad table row: $entity $action"
	for i in "${!ROLES[@]}"; do
		walk "${ROLES[$i]}" "${ACTOR[${ROLES[$i]}]}" "$entity" \
		    "$action" "$target" "${exp[$i]}"
	done
done <"$EXPECT"

# The same rows for a few actions, with a session of a user of each tenant
# role instead of an application.
while read -r entity action target cells; do
	case $entity in '' | '#'*) continue ;; esac
	case $entity:$action in
	tenant:read | organization:read | organization:update | user:read | \
	    user:update | user:password | api_application:read | \
	    api_application:rotate | audit_log:list | report:read) ;;
	*) continue ;;
	esac
	read -r -a exp <<<"$cells"
	for i in 2 3 4 5; do
		walk "${ROLES[$i]}" "s_${ROLES[$i]}" "$entity" "$action" \
		    "$target" "${exp[$i]}" session
	done
done <"$EXPECT"

finish
