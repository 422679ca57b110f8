// Package opstest tests what an operator deploys besides the binary: the
// systemd unit (configs/systemd), the container image (Containerfile) and
// the monitoring rules and dashboard (configs/monitoring), each with the
// real tool that reads it (systemd-analyze, podman, promtool). It has no
// code of its own.
package opstest
