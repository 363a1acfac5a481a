# Sourceable helpers for throwaway SoftHSMv2 tokens (bash).  Used by
# ./devstack and by the tests; nothing here is needed on a production host,
# where the token belongs to the operator.
#
#	. tools/softhsm.sh
#	softhsm_init_token DIR LABEL PINFILE SOPINFILE
#
# creates DIR/softhsm2.conf and DIR/tokens, and initialises a token called
# LABEL with the user PIN in PINFILE and the security officer PIN in
# SOPINFILE.  A PIN file that does not exist is created (mode 0600) with a
# random 32-digit hex PIN.  Point SOFTHSM2_CONF at DIR/softhsm2.conf to use
# the token.  When DIR already holds a token called LABEL nothing changes,
# so a second run is harmless.  Prints nothing on success; on failure it
# says why on stderr and returns non-zero.

# _softhsm_pin FILE: makes sure FILE holds a PIN, creating a random one.
_softhsm_pin() {
	local file=$1 pin

	if [ -e "$file" ]; then
		if [ ! -r "$file" ]; then
			echo "softhsm: cannot read PIN file $file" >&2
			return 1
		fi
		return 0
	fi
	pin=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') || return 1
	if [ ${#pin} -ne 32 ]; then
		echo "softhsm: cannot generate a PIN" >&2
		return 1
	fi
	# Create the file with its final mode so the PIN is never readable
	# by others, not even for an instant.
	(umask 077 && printf '%s\n' "$pin" >"$file") || {
		echo "softhsm: cannot write PIN file $file" >&2
		return 1
	}
	chmod 600 "$file"
}

# _softhsm_read FILE: the PIN in FILE without its line ending.
_softhsm_read() {
	local pin

	IFS= read -r pin <"$1" || [ -n "$pin" ] || return 1
	printf '%s' "${pin%$'\r'}"
}

softhsm_init_token() {
	if [ $# -ne 4 ]; then
		echo "usage: softhsm_init_token DIR LABEL PINFILE SOPINFILE" >&2
		return 2
	fi
	local dir=$1 label=$2 pinfile=$3 sopinfile=$4 conf pin sopin

	if ! command -v softhsm2-util >/dev/null 2>&1; then
		echo "softhsm: softhsm2-util not found (apt-get install softhsm2)" >&2
		return 1
	fi
	case $label in
	'' | *[!A-Za-z0-9._-]*)
		echo "softhsm: bad token label '$label'" >&2
		return 1
		;;
	esac
	if [ ${#label} -gt 32 ]; then
		echo "softhsm: token label longer than 32 characters" >&2
		return 1
	fi
	mkdir -p "$dir/tokens" || return 1
	chmod 700 "$dir/tokens" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	conf=$dir/softhsm2.conf
	# SoftHSM needs an absolute token directory; the file back end keeps
	# one directory per token that other processes can open too.
	cat >"$conf.tmp" <<EOC || return 1
# Written by tools/softhsm.sh: a throwaway SoftHSMv2 token store.
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
EOC
	mv -f "$conf.tmp" "$conf" || return 1
	_softhsm_pin "$pinfile" || return 1
	_softhsm_pin "$sopinfile" || return 1
	if SOFTHSM2_CONF=$conf softhsm2-util --show-slots 2>/dev/null |
	    awk -v l="$label" '$1 == "Label:" && $2 == l { f = 1 }
		END { exit !f }'; then
		return 0
	fi
	pin=$(_softhsm_read "$pinfile") || {
		echo "softhsm: empty PIN file $pinfile" >&2
		return 1
	}
	sopin=$(_softhsm_read "$sopinfile") || {
		echo "softhsm: empty PIN file $sopinfile" >&2
		return 1
	}
	# softhsm2-util takes PINs only as arguments; the token is throwaway
	# and the command runs for a fraction of a second.
	if ! SOFTHSM2_CONF=$conf softhsm2-util --init-token --free \
	    --label "$label" --pin "$pin" --so-pin "$sopin" \
	    >"$dir/init.log" 2>&1; then
		echo "softhsm: cannot initialise token $label:" >&2
		cat "$dir/init.log" >&2
		rm -f "$dir/init.log"
		return 1
	fi
	rm -f "$dir/init.log"
	return 0
}
