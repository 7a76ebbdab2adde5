# Sourced by k8s/test.sh and k8s/test/prometheus-queries.sh: install_prometheus_package <log file> makes sure
# promtool and prometheus (Debian's prometheus package) are installed. Installing needs root (CI runs as root).
# The package's maintainer scripts would start the server: a policy-rc.d (only when none exists) stops that,
# and any prometheus process that still appears is ended.
install_prometheus_package() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null && return 0
  echo "installing promtool and prometheus (Debian package prometheus)"
  local before made_policy="" pid
  before=$(pgrep -x prometheus || true)
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1; fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >"$1" 2>&1
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  for pid in $(pgrep -x prometheus || true); do
    case " $before " in *" $pid "*) ;; *) kill "$pid" 2>/dev/null || true ;; esac
  done
  command -v promtool >/dev/null && command -v prometheus >/dev/null || { tail -20 "$1"; return 1; }
}
