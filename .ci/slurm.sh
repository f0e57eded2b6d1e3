#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for the tests of the Slurm launcher.
#
#   bash .ci/slurm.sh start   # install (if missing), configure and start munged, slurmctld, slurmd
#   bash .ci/slurm.sh stop    # cancel every job, stop the daemons (exit 0 if already stopped)
#   bash .ci/slurm.sh status  # one line: up or down
#
# Debian 12 (Slurm 22.05, munge 0.5.15), no systemd needed: the daemons are started directly.
# What it sets up and why: .ci/slurm.md.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)
CONF=/etc/slurm/slurm.conf
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
CTLD_PID=$RUN_DIR/slurmctld.pid
SLURMD_PID=$RUN_DIR/slurmd.pid
MUNGE_KEY=/etc/munge/munge.key
MUNGE_PID=/run/munge/munged.pid
MUNGE_OURS=$RUN_DIR/munged.started-here
WAIT_S=${SLURM_START_TIMEOUT:-30}
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

die() {
  echo "slurm.sh: error: $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    echo "slurm.sh: last lines of $2:" >&2
    tail -n 15 "$2" | sed 's/^/  | /' >&2
  fi
  exit 1
}
say() { echo "slurm.sh: $*"; }

# The daemons, the munge key and /etc need root: re-run under sudo when started as a user.
if [ "$(id -u)" -ne 0 ] && [ "${1:-}" != status ]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (no sudo available)"
  exec sudo -n bash "$0" "$@"
fi

# alive PIDFILE NAME: the pid in PIDFILE is a running process whose command is NAME.
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -d "/proc/$pid" ] || return 1
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in "$2"*) return 0 ;; *) return 1 ;; esac
}

# pids_of EXE...: pids of the processes whose executable is one of EXE (full paths).
pids_of() {
  local p exe want
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    for want in "$@"; do
      if [ "$exe" = "$want" ]; then echo "${p#/proc/}"; fi
    done
  done
}

# stop_pids TIMEOUT PID...: SIGTERM, wait up to TIMEOUT s, then SIGKILL.
stop_pids() {
  local t=$1 p left
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq $((t * 5))); do
    left=""
    for p in "$@"; do if [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then left="$left $p"; fi; done
    [ -n "$left" ] || return 0
    sleep 0.2
  done
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null || true
}

# stop_daemon PIDFILE NAME EXE...: stops the daemon of PIDFILE, else any process running EXE.
stop_daemon() {
  local pidfile=$1 name=$2 pids
  shift 2
  if alive "$pidfile" "$name"; then
    pids=$(cat "$pidfile")
  else
    pids=$(pids_of "$@")
  fi
  # shellcheck disable=SC2086
  stop_pids 10 $pids
  rm -f "$pidfile"
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
ctld_up() { timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; }

install_packages() {
  local missing="" b
  for b in sbatch squeue sacct scancel scontrol sinfo slurmctld slurmd slurmstepd munged munge unmunge; do
    command -v "$b" >/dev/null 2>&1 || missing="$missing $b"
  done
  [ -n "$missing" ] || return 0
  command -v apt-get >/dev/null 2>&1 || die "missing$missing and no apt-get to install ${PACKAGES[*]}"
  say "installing ${PACKAGES[*]} (missing:$missing)"
  # Keep the packages' init scripts from starting the daemons with their default settings
  # (this script starts them itself); a policy-rc.d already there (containers) is left alone.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=1
  fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -q
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${PACKAGES[@]}")
  local log=/tmp/slurm-sh-apt.log ok=1
  if ! "${apt[@]}" >"$log" 2>&1; then
    # Stale package lists: refresh once and retry.
    if ! { apt-get update -q >>"$log" 2>&1 && "${apt[@]}" >>"$log" 2>&1; }; then ok=0; fi
  fi
  if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi
  [ "$ok" = 1 ] || die "apt-get install ${PACKAGES[*]} failed" "$log"
  for b in $missing; do
    command -v "$b" >/dev/null 2>&1 || die "$b is still missing after installing ${PACKAGES[*]}"
  done
  # A systemd host starts the packaged units on install; this script runs its own daemons.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop slurmd slurmctld >/dev/null 2>&1 || true
  fi
}

start_munge() {
  if munge_works; then return 0; fi
  local user=munge log=/var/log/munge/munged.log
  id munge >/dev/null 2>&1 || user=root
  install -d -m 0700 -o "$user" -g "$user" /etc/munge /var/log/munge
  install -d -m 0711 -o "$user" -g "$user" /var/lib/munge
  install -d -m 0755 -o "$user" -g "$user" /run/munge
  if [ ! -s "$MUNGE_KEY" ]; then
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$MUNGE_KEY" || die "mungekey could not create $MUNGE_KEY"
    else
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none || die "could not create $MUNGE_KEY"
    fi
  fi
  chown "$user:$user" "$MUNGE_KEY" && chmod 0400 "$MUNGE_KEY"
  # --force: start even over a stale socket left by a killed munged.
  if [ "$user" = root ]; then
    munged --force --pid-file="$MUNGE_PID" --log-file="$log" || die "munged failed to start" "$log"
  else
    runuser -u munge -- munged --force --pid-file="$MUNGE_PID" --log-file="$log" ||
      die "munged failed to start" "$log"
  fi
  touch "$MUNGE_OURS"
  for _ in $(seq 50); do
    if munge_works; then return 0; fi
    sleep 0.2
  done
  die "munged started but 'munge -n | unmunge' fails" "$log"
}

# write_conf: writes slurm.conf for this machine; returns 0 if it changed, 1 if it was already so.
write_conf() {
  local node cpus mem hw
  node=$(hostname -s)
  [ -n "$node" ] || die "hostname -s is empty"
  hw=$(slurmd -C 2>/dev/null | head -n 1) || true
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  [ -n "$cpus" ] || cpus=$(nproc)
  [ -n "$mem" ] || mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  if ! { [ "$cpus" -ge 1 ] && [ "$mem" -ge 1 ]; }; then
    die "could not read CPUs/RealMemory (slurmd -C: '$hw')"
  fi
  NODE=$node CPUS=$cpus MEM=$mem
  local new
  new=$(
    cat <<EOF
# Written by .ci/slurm.sh (see .ci/slurm.md): one node, one partition, no accounting database.
ClusterName=ci
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits cred_expire seconds before it may start again (default 120).
AuthInfo=cred_expire=10
MailProg=/bin/true
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: processes are tracked through their parent pids, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# No slurmdbd: sacct has no job database; finished jobs are kept in slurmctld for MinJobAge
# seconds (squeue -t all, scontrol show job) and logged one line each to JobCompLoc.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
MinJobAge=3600
# One CPU per task, memory not a consumable: N one-CPU tasks run at once on N CPUs.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Look at pending jobs every 2 s (default 60 s/30 s): a job whose BeginTime passed (a requeued
# one) starts within seconds, not at the next minute.
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=2
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
Waittime=0
JobRequeue=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  )
  mkdir -p "$(dirname "$CONF")"
  if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$new" ]; then return 1; fi
  { printf '%s\n' "$new" >"$CONF.tmp" && chmod 644 "$CONF.tmp" && mv "$CONF.tmp" "$CONF"; } ||
    die "could not write $CONF"
  return 0
}

# registered_since T: slurmd (re)registered with slurmctld at or after epoch second T.
registered_since() {
  [ "$1" -gt 0 ] || return 0
  local t
  t=$(timeout 10 scontrol show node "$NODE" 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')
  [ -n "$t" ] && [ "$t" != None ] || return 1
  t=$(date -d "$t" +%s 2>/dev/null) || return 1
  [ "$t" -ge "$1" ]
}

node_state() { timeout 10 sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -n 1; }

start() {
  local t0=$SECONDS changed=0 started=""
  install_packages
  mkdir -p "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"
  # `sacct -c` (jobcomp/filetxt) opens this file for append even to read it: any user may.
  touch "$LOG_DIR/jobcomp.log" && chmod 0666 "$LOG_DIR/jobcomp.log"
  start_munge
  if write_conf; then changed=1; fi

  # A daemon already running with this very config is kept (start twice is fine).
  if [ "$changed" = 1 ]; then
    stop_daemon "$SLURMD_PID" slurmd /usr/sbin/slurmd-wlm /usr/sbin/slurmd
    stop_daemon "$CTLD_PID" slurmctld /usr/sbin/slurmctld-wlm /usr/sbin/slurmctld
  fi
  if ! alive "$CTLD_PID" slurmctld; then
    slurmctld || die "slurmctld failed to start" "$LOG_DIR/slurmctld.log"
    started="$started slurmctld"
  fi
  for _ in $(seq $((WAIT_S * 2))); do
    if ctld_up; then break; fi
    alive "$CTLD_PID" slurmctld || die "slurmctld exited" "$LOG_DIR/slurmctld.log"
    sleep 0.5
  done
  ctld_up || die "slurmctld is not answering after ${WAIT_S}s" "$LOG_DIR/slurmctld.log"
  # A restarted slurmctld shows the node as it saved it (idle) before slurmd has registered:
  # a slurmd started here counts once the node's SlurmdStartTime is not older than that start.
  local since=0
  if ! alive "$SLURMD_PID" slurmd; then
    since=$(($(date +%s) - 1))
    slurmd -N "$NODE" || die "slurmd failed to start" "$LOG_DIR/slurmd.log"
    started="$started slurmd"
  fi

  # Wait for the node to register; a node recovered as down or drained is resumed.
  local state="" resumed=0 deadline=$((SECONDS + WAIT_S))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(node_state)
    case "${state%%[*~#!%\$@^-]*}" in
      idle | mixed | allocated | completing)
        # A trailing * is "not responding": slurmctld has not heard from slurmd (yet).
        if [ "${state%\*}" = "$state" ] && registered_since "$since"; then break; fi ;;
      down | drained | draining | drain | fail | failing | inval)
        if [ "$resumed" = 0 ]; then
          scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
          resumed=1
        fi ;;
    esac
    alive "$SLURMD_PID" slurmd || die "slurmd exited (node $NODE: ${state:-unknown})" "$LOG_DIR/slurmd.log"
    sleep 0.5
  done
  case "${state%%[*~#!%\$@^-]*}" in
    idle | mixed | allocated | completing)
      if ! { [ "${state%\*}" = "$state" ] && registered_since "$since"; }; then
        die "slurmd on $NODE did not register with slurmctld within ${WAIT_S}s (node: $state)" \
          "$LOG_DIR/slurmd.log"
      fi ;;
    *)
      local reason
      reason=$(timeout 10 scontrol show node "$NODE" 2>/dev/null | sed -n 's/^ *Reason=//p') || true
      die "node $NODE is '${state:-not registered}' after ${WAIT_S}s${reason:+ (reason: $reason)}" \
        "$LOG_DIR/slurmd.log" ;;
  esac
  local how="already running"
  if [ -n "$started" ]; then how="started${started} in $((SECONDS - t0))s"; fi
  say "up ($how): node $NODE ($CPUS CPUs, $MEM MB) $state, partition debug; logs in $LOG_DIR"
}

stop() {
  if command -v scontrol >/dev/null 2>&1 && [ -f "$CONF" ] && ctld_up; then
    local jobs
    jobs=$(timeout 15 squeue -h -o %F 2>/dev/null | sort -u | tr '\n' ' ') || true
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      timeout 15 scancel $jobs >/dev/null 2>&1 || true
      for _ in $(seq 30); do
        [ -z "$(timeout 10 squeue -h -t PD,R,CG,S,CF -o %i 2>/dev/null)" ] && break
        sleep 0.5
      done
    fi
  fi
  stop_daemon "$SLURMD_PID" slurmd /usr/sbin/slurmd-wlm /usr/sbin/slurmd
  stop_daemon "$CTLD_PID" slurmctld /usr/sbin/slurmctld-wlm /usr/sbin/slurmctld
  # Job steps that outlived slurmd (a task that ignores SIGTERM).
  # shellcheck disable=SC2046
  stop_pids 5 $(pids_of /usr/sbin/slurmstepd-wlm /usr/sbin/slurmstepd)
  # munged only if this script started it (a system munged is left running).
  if [ -e "$MUNGE_OURS" ]; then
    stop_daemon "$MUNGE_PID" munged /usr/sbin/munged
    rm -f "$MUNGE_OURS"
  fi
  say "stopped"
}

status() {
  if command -v scontrol >/dev/null 2>&1 && [ -f "$CONF" ] && ctld_up; then
    NODE=$(hostname -s)
    say "up: node $NODE $(node_state)"
  else
    say "down"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: bash .ci/slurm.sh start|stop|status" >&2
    exit 2
    ;;
esac
