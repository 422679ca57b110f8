// Package opstest tests what an operator deploys besides the binary: the
// systemd unit (configs/systemd), the container image (Containerfile) and
// the monitoring rules and dashboard (configs/monitoring), each with the
// real tool that reads it (systemd-analyze, podman, promtool), and the
// multi-node reference topology of docs/operations.md (two overstap
// processes behind nginx, Redis with Sentinel, PostgreSQL) through a Redis
// failover and a node crash. It has no code of its own.
package opstest
