#!/bin/sh
# The runner inside the FreeBSD VM (freebsd-vm/run, docs/testing.md).
# Needs nothing but the base system's sh(1): the helpers it needs come
# prebuilt in the payload (bin/argv-exec, bin/bench-native: freestanding,
# cross-built by freebsd-vm/run). cc(1), when present, builds them if the
# prebuilt ones do not run, and runs the layout check.
#
#   sh /mnt/vm-run.sh [--timeout-scale N]   (typed at the console by freebsd-vm/run)
#
# --timeout-scale N multiplies every case's timeout (and the benchmark's):
# freebsd-vm/run passes 1 with KVM and more under TCG emulation.
#
# From the payload beside it (config.sh, cases.sh, bench.sh, the module,
# the programs) it:
#  1. loads cloudabi64.ko with kldload(8);
#  2. runs the layout check against /usr/src/sys when the image has the
#     kernel sources (or the payload carries src.txz);
#  3. runs every conformance case (cases.sh): it starts the CloudABI
#     program itself, with the argument data as its argument vector (split
#     at its NULs; argv[0] is data too, so the argv-exec helper sets it,
#     closes inherited descriptors above the program's and makes sockets;
#     without a helper that runs, the program is started under a file
#     name equal to the first piece) and its descriptors opened by
#     redirections
#     as 0..n-1; judged as run/tests/conformance.rs judges: the exit status
#     or signal of the spec within its timeout, every output line `ok ...`
#     and at least one, no cloudabi64-escape-* file in the case's parent
#     directory, /tmp or /;
#  4. runs the native-vs-CloudABI latency benchmark (bench.sh), printing
#     ratios;
#  5. unloads the module, prints dmesg and writes every result file to the
#     results disk (a tar archive; the disk is found by its magic).
#
# Console protocol (read by vmctl parse): every line starts with
# "cloudabi64-vm: "; per case "ok NAME", "FAIL NAME: why" or
# "SKIP NAME: why"; then "result: RELEASE ARCH: N passed, N failed,
# N skipped"; details are indented ("cloudabi64-vm:     | ..."); dmesg
# lines start with "dmesg| "; the last line is "cloudabi64-vm: done".
#
# For tests on other systems these variables change what it does:
# CA64_KLD=no (no kldload/kldunload), CA64_CC (compiler, "none" for
# none), CA64_PREBUILT=no (ignore the payload's prebuilt programs),
# CA64_RESULTS (results device or file), CA64_SRC (kernel sources),
# CA64_BENCH=no, CA64_LAYOUTS=no.
set -u
LC_ALL=C
export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
SCALE=1
while [ $# -gt 0 ]; do
	case $1:${2-} in
	--timeout-scale:[1-9] | --timeout-scale:[1-9][0-9] | --timeout-scale:[1-9][0-9][0-9])
		SCALE=$2
		shift 2
		;;
	*)
		echo "vm-run.sh: bad arguments: $* (usage: vm-run.sh [--timeout-scale 1..999])" >&2
		exit 2
		;;
	esac
done
. "$here/config.sh"

RES=$BASE/.results
BIN=$BASE/.bin
passed=0 failed=0 skipped=0 launches=0

say() {
	printf 'cloudabi64-vm: %s\n' "$*"
	printf '%s\n' "$*" >>"$RES/runner.log"
}

# Up to MAX lines of FILE, each as an indented detail line.
detail() { # TAG FILE MAX
	[ -s "$2" ] || return 0
	head -n "$3" "$2" | while IFS= read -r _l || [ -n "$_l" ]; do
		say "    $1 $_l"
	done
}

# decode WORD: $dec becomes the bytes the printf format WORD stands for
# (words are made by vmctl: freebsd-vm/vmctl/src/shenc.rs).
decode() {
	# shellcheck disable=SC2059
	dec=$(printf "$1"X)
	dec=${dec%X}
}

# The number of a signal name without SIG (USR1), as kill -l prints it.
signum() {
	_n=1
	while [ "$_n" -lt 128 ]; do
		if [ "$(kill -l "$_n" 2>/dev/null)" = "$1" ]; then
			echo "$_n"
			return 0
		fi
		_n=$((_n + 1))
	done
	return 1
}

# launch PROGRAM OUT ERR TIMEOUT CWD DESCRIPTOR... -- PIECE...
# Starts PROGRAM in CWD with the decoded pieces as its argument vector and
# the descriptors as 0..n-1 (the runner's "stdin" is /dev/null, its
# "stdout" OUT and its "stderr" ERR). Sets $status (128+N for signal N),
# $timed_out (yes/no) and $why (non-empty when it could not start).
launch() {
	_prog=$1 _out=$2 _err=$3 _tmo=$4 _cwd=$5
	shift 5
	_fds=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		_fds="$_fds $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# Decode the pieces in place (each one moves from the front to the
	# back, so the order is kept).
	_n=$#
	while [ "$_n" -gt 0 ]; do
		decode "$1"
		shift
		set -- "$@" "$dec"
		_n=$((_n - 1))
	done
	why= status= timed_out=no
	# One redirection per descriptor; fds 7, 8 and 9 hold the runner's
	# stdin/stdout/stderr for the case until they are closed at the end.
	_redir= _socks= _i=0
	set -f
	for _w in $_fds; do
		_kind=${_w%%:*}
		decode "${_w#*:}"
		eval "_p$_i=\$dec"
		case $dec in
		/*) _abs=$dec ;;
		*) _abs=$_cwd/$dec ;;
		esac
		case $_kind in
		fd)
			case $dec in
			0) _redir="$_redir $_i<&8" ;;
			1) _redir="$_redir $_i>&9" ;;
			2) _redir="$_redir $_i>&7" ;;
			*) why="descriptor $_i: cannot pass descriptor $dec" ;;
			esac
			;;
		dir)
			[ -d "$_abs" ] || why="descriptor $_i: $dec is not a directory"
			_redir="$_redir $_i<\"\$_p$_i\""
			;;
		read)
			[ -f "$_abs" ] || why="descriptor $_i: $dec is not a file"
			_redir="$_redir $_i<\"\$_p$_i\""
			;;
		append) _redir="$_redir $_i>>\"\$_p$_i\"" ;;
		readwrite) _redir="$_redir $_i<>\"\$_p$_i\"" ;;
		exec) _redir="$_redir $_i<\"\$_prog\"" ;;
		sock)
			# Made by argv-exec; the shell leaves the slot closed.
			[ -n "$HELPER" ] || why="${why:-descriptor $_i: a socket needs the argv-exec helper, and there is none}"
			eval "_s$_i=\$_i:\$dec"
			_socks="$_socks -s \"\$_s$_i\""
			_redir="$_redir $_i<&-"
			;;
		*) why="descriptor $_i: unknown kind $_kind" ;;
		esac
		_i=$((_i + 1))
	done
	set +f
	_nfds=$_i
	[ "$_i" -le 7 ] || why="$_i descriptors (at most 7)"
	while [ "$_i" -le 9 ]; do
		_redir="$_redir $_i>&-"
		_i=$((_i + 1))
	done
	if [ -n "$HELPER" ]; then
		_cmd="exec \"\$HELPER\" \"\$_nfds\"$_socks \"\$_prog\" \"\$@\""
	else
		# No helper: a directory on PATH holds a link named like the first
		# piece, so that sh's command search passes it as argv[0].
		_a0=${1-}
		case $_a0 in
		'' | */* | . | ..) why="${why:-argv[0] cannot be a file name here and there is no argv-exec helper}" ;;
		esac
		[ "${#_a0}" -le 255 ] || why="${why:-argv[0] is too long for a file name and there is no argv-exec helper}"
		if [ -z "$why" ]; then
			launches=$((launches + 1))
			_bin=$BASE/.argv0/$launches
			rm -rf "$_bin" && mkdir -p "$_bin" && ln -s "$_prog" "$_bin/$1" ||
				why="cannot link $_prog under its argv[0]"
		fi
		# shellcheck disable=SC2016
		_cmd='PATH=$_bin; exec "$@"'
	fi
	[ -z "$why" ] || return 0
	_mark=$BASE/.timeout
	rm -f "$_mark"
	(
		cd "$_cwd" || exit 125
		exec 7>"$_err" 8</dev/null 9>"$_out" || exit 125
		# The redirections first, on their own: with a command, a shell
		# may keep copies of the descriptors it replaces (dash does, open
		# across exec), which the program would inherit.
		eval "exec $_redir" || exit 125
		eval "$_cmd"
	) &
	_pid=$!
	(
		sleep "$_tmo" &
		_s=$!
		trap 'kill "$_s" 2>/dev/null; exit 0' TERM
		if wait "$_s"; then
			: >"$_mark"
			kill -KILL "$_pid" 2>/dev/null
		fi
	) &
	_wd=$!
	# (Shells report a job killed by a signal on standard error.)
	wait "$_pid" 2>/dev/null
	status=$?
	kill -TERM "$_wd" 2>/dev/null
	wait "$_wd" 2>/dev/null
	[ -e "$_mark" ] && timed_out=yes
	rm -f "$_mark"
	return 0
}

# Files named like an escape attempt in the directories given; removed.
escapes() {
	_found=
	for _d in "$@"; do
		for _f in "$_d"/cloudabi64-escape*; do
			[ -e "$_f" ] || [ -L "$_f" ] || continue
			_found="$_found $_f"
			rm -rf "$_f"
		done
	done
	echo "${_found# }"
}

# run_case NAME PROGRAM EXPECT TIMEOUT DESCRIPTOR... -- PIECE...
# EXPECT is "exit N" or "signal NAME"; the scratch directory is
# $BASE/NAME/scratch (cases.sh was generated with it).
run_case() {
	_name=$1 _pname=$2 _expect=$3 _ctmo=$(($4 * SCALE)) _spec_tmo=$4
	shift 4
	_parent=$BASE/$_name
	rm -rf "$_parent"
	mkdir -p "$_parent/scratch"
	_cout=$RES/cases/$_name.out _cerr=$RES/cases/$_name.err
	: >"$_cout"
	: >"$_cerr"
	launch "$PROGS/$_pname" "$_cout" "$_cerr" "$_ctmo" "$_parent" "$@"
	_oks=$(grep -c '^ok ' "$_cout")
	_others=$(grep -vc '^ok ' "$_cout")
	_fail=
	if [ -n "$why" ]; then
		_fail="cannot start: $why"
	elif [ "$timed_out" = yes ]; then
		_fail="no exit within $_ctmo s"
		[ "$SCALE" = 1 ] || _fail="$_fail (timeout $_spec_tmo s x$SCALE)"
	else
		_st_ok=no
		case $_expect in
		exit\ *) [ "$status" = "${_expect#exit }" ] && _st_ok=yes ;;
		signal\ *)
			_num=$(signum "${_expect#signal }") && [ "$status" = $((128 + _num)) ] && _st_ok=yes
			;;
		esac
		if [ "$_st_ok" = no ] || [ "$_others" -gt 0 ] || [ "$_oks" -eq 0 ]; then
			case $status in
			126 | 127) _fail="status $status (expected $_expect): the program could not be executed" ;;
			*) _fail="status $status (expected $_expect), $_oks ok, $_others other lines" ;;
			esac
		fi
	fi
	_esc=$(escapes "$_parent" /tmp /)
	[ -z "$_esc" ] || _fail="${_fail:+$_fail; }escaped the scratch directory: $_esc"
	if [ -z "$_fail" ]; then
		passed=$((passed + 1))
		say "ok $_name"
	else
		failed=$((failed + 1))
		say "FAIL $_name: $_fail"
		grep -v '^ok ' "$_cout" >"$RES/cases/$_name.bad"
		detail '|' "$RES/cases/$_name.bad" 10
		detail 'stderr|' "$_cerr" 5
	fi
	rm -rf "$_parent"
}

skip_case() { # NAME WHY
	decode "$2"
	skipped=$((skipped + 1))
	say "SKIP $1: $dec"
}

# The benchmark: bench.sh calls bench_case for the CloudABI side (its
# configuration names the scratch directory, which gets sub/file); the
# native side is guest/bench/native.c built with cc. Best of 3 runs each.
bench_case() {
	_name=$1 _pname=$2 _ctmo=$(($4 * SCALE))
	shift 4
	_parent=$BASE/$_name
	_dir=$_parent/scratch
	rm -rf "$_parent"
	mkdir -p "$_dir/sub"
	echo data >"$_dir/sub/file"
	_b=$RES/bench
	mkdir -p "$_b"
	: >"$_b/native" && : >"$_b/cloudabi"
	# The native side: the prebuilt bench-native (system calls without a
	# C library), else guest/bench/native.c built with cc.
	_native=
	if prebuilt bench-native && "$BIN/bench-native" "$_dir" 1 >/dev/null 2>"$_b/native.err"; then
		_native=$BIN/bench-native
		say "bench: native side prebuilt (from the payload)"
	elif [ -z "$CC_BIN" ]; then
		say "bench: native side not run: no prebuilt program that runs here and no C compiler"
		detail '|' "$_b/native.err" 3
	elif ! "$CC_BIN" -O2 -pthread -o "$BIN/native" "$here/bench/native.c" 2>"$_b/native.cc"; then
		say "bench: native side not built:"
		detail '|' "$_b/native.cc" 5
	else
		_native=$BIN/native
		say "bench: native side built with $CC_BIN"
	fi
	if [ -n "$_native" ]; then
		for _r in 1 2 3; do
			"$_native" "$_dir" "$BENCH_ITERATIONS" >>"$_b/native" 2>>"$_b/native.err" || break
		done
	fi
	for _r in 1 2 3; do
		launch "$PROGS/$_pname" "$_b/run" "$_b/run.err" "$_ctmo" "$_parent" "$@"
		if [ -n "$why" ] || [ "$timed_out" = yes ] || [ "$status" != 0 ]; then
			if [ -n "$why" ]; then
				say "bench: CloudABI side not started: $why"
			elif [ "$timed_out" = yes ]; then
				say "bench: CloudABI side: no exit within $_ctmo s"
			else
				say "bench: CloudABI side failed with status $status"
			fi
			detail '|' "$_b/run" 5
			detail 'stderr|' "$_b/run.err" 5
			break
		fi
		cat "$_b/run" >>"$_b/cloudabi"
	done
	say "bench: $BENCH_ITERATIONS iterations, best of 3, ns per call"
	awk '
		# "NAME WALL-NS OPERATIONS [CPU-NS]"; the null call (a cost
		# budget piece, not a comparison) is left out.
		NF >= 3 && $3 > 0 && $1 != "null" {
			v = $2 / $3
			if (FILENAME == ARGV[1] && (!($1 in n) || v < n[$1])) n[$1] = v
			if (FILENAME == ARGV[2] && (!($1 in c) || v < c[$1])) c[$1] = v
			if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 }
		}
		END {
			for (i = 1; i <= k; i++) {
				m = order[i]
				if ((m in n) && (m in c))
					printf "%-20s native %10.1f  cloudabi %10.1f  ratio %6.2fx\n", m, n[m], c[m], c[m] / n[m]
				else
					printf "%-20s native %10s  cloudabi %10s\n", m, (m in n) ? sprintf("%.1f", n[m]) : "-", (m in c) ? sprintf("%.1f", c[m]) : "-"
			}
		}' "$_b/native" "$_b/cloudabi" >"$_b/ratios"
	detail 'bench|' "$_b/ratios" 20
	rm -rf "$_parent"
}

layouts() {
	src=${CA64_SRC:-/usr/src/sys}
	if [ ! -f "$src/sys/sysent.h" ] && [ -f "$here/src.txz" ]; then
		mkdir -p "$BASE/.src"
		# Only the kernel sources; member names may start with "./".
		if tar -xf "$here/src.txz" -C "$BASE/.src" --include '*usr/src/sys/*' 2>"$RES/src.err"; then
			_h=$(find "$BASE/.src" -path '*/usr/src/sys/sys/sysent.h' | head -n 1)
			[ -z "$_h" ] || src=${_h%/sys/sysent.h}
		else
			say "layouts: cannot extract src.txz:"
			detail '|' "$RES/src.err" 5
		fi
	fi
	if [ ! -f "$src/sys/sysent.h" ]; then
		say "layouts: not run: no kernel sources in $src"
	elif [ -z "$CC_BIN" ]; then
		say "layouts: not run: no C compiler"
	elif SYSDIR=$src CLANG=$CC_BIN sh "$here/layouts/scripts/check-layouts" \
		--release "$KMOD_MAJOR" --arch "$ARCH" >"$RES/layouts.txt" 2>&1; then
		say "layouts: ok against $src"
		detail 'layouts|' "$RES/layouts.txt" 20
	else
		say "layouts: FAILED against $src"
		detail 'layouts|' "$RES/layouts.txt" 40
	fi
}

# The results disk: a virtio disk whose first bytes are the magic (the
# host made it), overwritten with a tar archive of $RES.
write_results() {
	_dev=${CA64_RESULTS:-}
	if [ -z "$_dev" ]; then
		for _d in /dev/vtbd[0-9] /dev/vtbd[0-9][0-9]; do
			[ -e "$_d" ] || continue
			if [ "$(dd if="$_d" bs=512 count=1 2>/dev/null | head -c 16)" = CA64-RESULTS-DSK ]; then
				_dev=$_d
				break
			fi
		done
	fi
	if [ -z "$_dev" ]; then
		say "results: no results disk found"
	elif (cd "$RES" && tar -cf "$_dev" .) 2>"$BASE/.tar.err"; then
		say "results: written to $_dev"
	else
		say "results: cannot write to $_dev: $(head -n 1 "$BASE/.tar.err")"
	fi
}

# --- main ---
rm -rf "$BASE"
mkdir -p "$RES/cases" "$BIN" || exit 1
say "start $RELEASE $ARCH"
[ "$SCALE" = 1 ] || say "case timeouts x$SCALE (emulation)"
say "uname: $(uname -a)"
say "kern.osreldate: $(sysctl -n kern.osreldate 2>/dev/null || echo unknown)"
case $(uname -r) in
"$RELEASE"*) ;;
*) say "warning: this system is $(uname -r), the payload was made for $RELEASE" ;;
esac

CC_BIN=${CA64_CC:-cc}
[ "$CC_BIN" = none ] && CC_BIN=
if [ -n "$CC_BIN" ] && ! command -v "$CC_BIN" >/dev/null 2>&1; then
	CC_BIN=
fi
# prebuilt NAME: copies the payload's bin/NAME to $BIN/NAME (executable);
# fails when there is none or CA64_PREBUILT=no.
prebuilt() {
	[ "${CA64_PREBUILT:-yes}" = yes ] && [ -f "$here/bin/$1" ] &&
		cp "$here/bin/$1" "$BIN/$1" && chmod 755 "$BIN/$1"
}
# The argv-exec helper: the payload's prebuilt one, else one built with
# cc from the same freestanding source, else none. A helper is used only
# after it ran /bin/sh here.
helper_runs() {
	"$1" 3 /bin/sh sh -c 'exit 7' </dev/null >/dev/null 2>"$RES/argv-exec.err"
	[ $? = 7 ]
}
HELPER=
if prebuilt argv-exec; then
	if helper_runs "$BIN/argv-exec"; then
		HELPER=$BIN/argv-exec
		say "argv-exec: prebuilt (from the payload)"
	else
		say "argv-exec: the prebuilt helper does not run here:"
		detail '|' "$RES/argv-exec.err" 5
	fi
fi
if [ -z "$HELPER" ] && [ -n "$CC_BIN" ] &&
	"$CC_BIN" -O2 -ffreestanding -fno-stack-protector -fno-pie -no-pie -nostdlib -static -I "$here" \
		-o "$BIN/argv-exec" "$here/argv-exec.c" 2>"$RES/argv-exec.cc" && helper_runs "$BIN/argv-exec"; then
	HELPER=$BIN/argv-exec
	say "argv-exec: built with $CC_BIN"
fi
[ -n "$HELPER" ] || say "argv-exec: none (no prebuilt helper that runs, no working cc): programs start under a file name equal to argv[0]"

kld=yes
if [ "${CA64_KLD:-yes}" = yes ]; then
	cp "$here/cloudabi64.ko" "$BIN/cloudabi64.ko"
	if kldstat -q -n cloudabi64 2>/dev/null; then
		say "kldload failed: cloudabi64 is already loaded"
		kld=no
	elif _o=$(kldload "$BIN/cloudabi64.ko" 2>&1); then
		say "kldload: ok"
		kldstat -v -n cloudabi64 >"$RES/kldstat.txt" 2>&1
		detail 'kldstat|' "$RES/kldstat.txt" 3
	else
		say "kldload failed: $_o"
		dmesg | tail -n 20 >"$RES/kldload-dmesg.txt"
		detail '|' "$RES/kldload-dmesg.txt" 20
		kld=no
	fi
else
	say "kldload: skipped (CA64_KLD=$CA64_KLD)"
fi

if [ "${CA64_LAYOUTS:-yes}" = yes ]; then
	layouts
fi

if [ "$kld" = yes ]; then
	PROGS=$BIN/conformance
	mkdir -p "$PROGS"
	cp "$here"/conformance/* "$PROGS"/ 2>/dev/null
	chmod 755 "$PROGS"/* 2>/dev/null
	. "$here/cases.sh"
	say "result: $RELEASE $ARCH: $passed passed, $failed failed, $skipped skipped"
	if [ "${CA64_BENCH:-yes}" = yes ]; then
		PROGS=$BIN/bench
		mkdir -p "$PROGS"
		cp "$here/bench/cloudabi" "$PROGS/cloudabi" && chmod 755 "$PROGS/cloudabi"
		. "$here/bench.sh"
	fi
fi

if [ "${CA64_KLD:-yes}" = yes ] && [ "$kld" = yes ]; then
	# A process a test left behind (a fork child) keeps the module busy;
	# give exiting ones a moment first.
	sleep 1
	if _o=$(kldunload cloudabi64 2>&1); then
		say "kldunload: ok"
	else
		say "kldunload failed: $_o"
	fi
fi

say "dmesg begin"
dmesg >"$RES/dmesg.txt" 2>&1
sed 's/^/dmesg| /' "$RES/dmesg.txt"
say "dmesg end"
write_results
say "done"
