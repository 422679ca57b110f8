package testsvc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nginxConf is a private nginx's whole configuration around the test's
// http block: its pid, log and temporary files in its own directory (-p).
const nginxConf = `worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path body;
  proxy_temp_path proxy;
  fastcgi_temp_path fastcgi;
  uwsgi_temp_path uwsgi;
  scgi_temp_path scgi;
%s
}
`

// StartNginx runs a private nginx of the test's own in dir (a new temporary
// directory when empty) with http as the body of its http block, stopped
// when t ends, and waits until ready answers (see Start). It fails the test
// in CI, and skips locally, when nginx is not installed.
func StartNginx(t testing.TB, dir, http, ready string) *Proc {
	t.Helper()
	bin := LookPath(t, []string{"/usr/sbin/nginx"}, "nginx")
	if dir == "" {
		dir = t.TempDir()
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, http)), 0o600); err != nil {
		t.Fatal(err)
	}
	return Start(t, "nginx", exec.Command(bin, "-p", dir, "-c", conf, "-g", "daemon off;"),
		filepath.Join(dir, "nginx.out"), ready, 30*time.Second)
}
