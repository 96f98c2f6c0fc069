#!/bin/sh
# lint.sh - house-style checks that a compiler does not make (STYLE.md):
#   1. banned functions (raw allocation, unbounded string functions)
#   2. include layering: which module may include which (STYLE module map)
#   3. the only users of <sqlite3.h>, <microhttpd.h>, <libvirt/...>
# Prints TAP ("ok N - ..." / "not ok N - ...") and exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
n=0
fails=0
report() { # $1 = description, $2 = offending lines (empty = ok)
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - lint: $1"
	else
		echo "not ok $n - lint: $1"
		printf '%s\n' "$2" | sed 's/^/# /'
		fails=$((fails + 1))
	fi
}

# 1. Banned functions outside the wrappers in util/alloc.c.
bad=$(grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup|sprintf|vsprintf|strcpy|strcat|strncpy|atoi|atol|strtok|gets)[[:space:]]*\(' \
	$(find src -name '*.c' ! -path src/util/alloc.c) |
	grep -vE '^\S+:[0-9]+:\s*(\*|/\*)' | grep -vE '(x|_)(malloc|calloc|realloc|free|strdup|strndup)\(' |
	grep -vE 'json_object_put|sqlite3_free|OPENSSL_free|X509_free|EVP_PKEY_free|BIO_free|MHD_' )
report "no banned functions (use util/alloc.h, snprintf, str_copy, str_to_int64)" "$bad"

# 2. Layering. allowed[module] = modules it may include (plus itself, util).
allowed() {
	case "$1" in
	http) echo "api auth events console" ;;
	api) echo "jobs db model auth events hv" ;;
	jobs) echo "hv db model events" ;;
	hv) echo "model" ;;
	db) echo "model" ;;
	auth) echo "db model" ;;
	events) echo "db model" ;;
	console) echo "hv auth" ;;
	policy) echo "jobs db model events hv" ;;
	conf | model) echo "" ;;
	util) echo "" ;;
	*) echo "ANY" ;;
	esac
}
bad=""
for f in $(find src -mindepth 2 -name '*.[ch]'); do
	mod=$(echo "$f" | cut -d/ -f2)
	ok=$(allowed "$mod")
	[ "$ok" = ANY ] && continue
	for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f" | sort -u); do
		[ "$inc" = "$mod" ] || [ "$inc" = util ] && continue
		case " $ok " in *" $inc "*) ;; *) bad="$bad
$f includes $inc/ (allowed: $ok util)" ;; esac
	done
done
report "include layering follows the module map" "$(echo "$bad" | sed '/^$/d')"

# 3. Library headers confined to their modules.
bad=$(grep -ln '#include <sqlite3.h>' $(find src -name '*.[ch]') | grep -v '^src/db/')
report "only db/ includes <sqlite3.h>" "$bad"
bad=$(grep -ln '#include <microhttpd.h>' $(find src -name '*.[ch]') | grep -v '^src/http/')
report "only http/ includes <microhttpd.h>" "$bad"
bad=$(grep -ln '#include <libvirt/' $(find src -name '*.[ch]') | grep -v '^src/hv/libvirt.c$')
report "only hv/libvirt.c includes libvirt" "$bad"

# 4. Generated docs are current.
gen="${BUILD:-build}/tools/genroutes"
if [ -x "$gen" ]; then
	bad=$("$gen" md schema/api/routes.json | diff docs/API-routes.md - | head -5)
	report "docs/API-routes.md matches schema/api/routes.json (make docs)" "$bad"
fi

[ "$fails" -eq 0 ]
