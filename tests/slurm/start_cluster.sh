#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (Debian's slurm-wlm 22.05 + munge), for the SLURM executor test.
# No cgroups (proctrack/linuxproc, task/none), no accounting database: Snakemake polls with squeue instead.
# Usage: start_cluster.sh  (as root; idempotent: restarts the daemons). Prints "ready" when the node is idle.
set -euo pipefail
for cmd in munged slurmctld slurmd sinfo; do
  command -v "$cmd" >/dev/null || { echo "missing $cmd (apt-get install slurm-wlm munge)" >&2; exit 3; }
done
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=isometry
SlurmctldHost=${host}
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=main Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
pkill -x slurmd 2>/dev/null || true
pkill -x slurmctld 2>/dev/null || true
pkill -x munged 2>/dev/null || true
sleep 1
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
if id munge >/dev/null 2>&1; then
  su -s /bin/sh munge -c "/usr/sbin/munged" || /usr/sbin/munged --force
else
  /usr/sbin/munged --force
fi
slurmctld -c
slurmd -c
for i in $(seq 1 60); do
  if sinfo -h -o "%t" 2>/dev/null | grep -qE "^idle"; then echo ready; exit 0; fi
  sleep 1
done
echo "SLURM node did not become idle:" >&2
sinfo >&2 || true
tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 4
