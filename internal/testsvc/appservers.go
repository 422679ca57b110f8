package testsvc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The legacy app servers below answer every request with the path they
// routed it to, one "key=value" line each, so a test can compare what the
// gateway judged with what the app would act on.

// echoServlet is the Tomcat app: one servlet on "/*"; the container's
// routing result is servlet path + path info (decoded, ";params" removed,
// dot segments resolved by Tomcat itself).
const echoServlet = `import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

public class Echo extends HttpServlet {
    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("text/plain;charset=UTF-8");
        String info = req.getPathInfo();
        resp.getWriter().print("routed=" + req.getServletPath() + (info == null ? "" : info) + "\n");
        resp.getWriter().print("request_uri=" + req.getRequestURI() + "\n");
    }
}
`

const echoWebXML = `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="true">
  <servlet><servlet-name>echo</servlet-name><servlet-class>Echo</servlet-class></servlet>
  <servlet-mapping><servlet-name>echo</servlet-name><url-pattern>/*</url-pattern></servlet-mapping>
</web-app>
`

const tomcatServerXML = `<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1" connectionTimeout="20000" maxThreads="8"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" deployOnStartup="true"/>
    </Engine>
  </Service>
</Server>
`

// Tomcat starts a private Tomcat 10 (Debian tomcat10, its default
// connector settings) on a free loopback port with one echo servlet on
// "/*", and returns its base URL. The servlet is compiled with javac
// against Tomcat's servlet API. Stopped when t ends.
func Tomcat(t testing.TB) string {
	t.Helper()
	home := os.Getenv("OVERSTAP_TEST_CATALINA_HOME")
	if home == "" {
		home = "/usr/share/tomcat10"
	}
	hint := "apt-get install tomcat10 default-jdk-headless (scripts/services.sh)"
	java, err := exec.LookPath("java")
	if err == nil {
		_, err = os.Stat(filepath.Join(home, "bin", "bootstrap.jar"))
	}
	if err != nil {
		Unavailable(t, "Tomcat", err, hint)
		return ""
	}
	javac, err := exec.LookPath("javac")
	if err != nil {
		Unavailable(t, "javac", err, hint)
		return ""
	}
	base := t.TempDir()
	classes := filepath.Join(base, "webapps", "ROOT", "WEB-INF", "classes")
	for _, d := range []string{"conf", "logs", "temp", "work", classes} {
		if err := os.MkdirAll(filepath.Join(base, strings.TrimPrefix(d, base)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	port := FreePort(t)
	files := map[string]string{
		"conf/server.xml":                        fmt.Sprintf(tomcatServerXML, port),
		"webapps/ROOT/WEB-INF/web.xml":           echoWebXML,
		"webapps/ROOT/WEB-INF/classes/Echo.java": echoServlet,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(base, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"web.xml", "catalina.properties"} {
		if b, err := os.ReadFile(filepath.Join(home, "conf", name)); err == nil {
			_ = os.WriteFile(filepath.Join(base, "conf", name), b, 0o600)
		} else if b, err := os.ReadFile(filepath.Join("/etc/tomcat10", name)); err == nil {
			_ = os.WriteFile(filepath.Join(base, "conf", name), b, 0o600)
		}
	}
	if out, err := exec.Command(javac, "-cp", filepath.Join(home, "lib", "servlet-api.jar"), "-d", classes,
		filepath.Join(classes, "Echo.java")).CombinedOutput(); err != nil {
		t.Fatalf("testsvc: javac: %v: %s", err, out)
	}
	cmd := exec.Command(java, "-Xmx192m", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-Dcatalina.home="+home, "-Dcatalina.base="+base, "-Djava.io.tmpdir="+filepath.Join(base, "temp"),
		"-cp", filepath.Join(home, "bin", "bootstrap.jar")+":"+filepath.Join(home, "bin", "tomcat-juli.jar"),
		"org.apache.catalina.startup.Bootstrap", "start")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	Start(t, "Tomcat", cmd, filepath.Join(base, "logs", "stdout.log"), url+"/ready", 60*time.Second)
	return url
}

const frontController = `<?php
// A front controller as legacy PHP apps write it: route on the path of
// REQUEST_URI, decoded once.
header('Content-Type: text/plain; charset=UTF-8');
$uri = $_SERVER['REQUEST_URI'] ?? '';
$q = strpos($uri, '?');
$path = rawurldecode($q === false ? $uri : substr($uri, 0, $q));
echo "routed=", $path, "\n";
echo "path_info=", $_SERVER['PATH_INFO'] ?? '', "\n";
echo "script_name=", $_SERVER['SCRIPT_NAME'] ?? '', "\n";
`

const fpmConf = `[global]
pid = %[1]s/fpm.pid
error_log = %[1]s/fpm.log
daemonize = no
[app]
%[3]s
listen = 127.0.0.1:%[2]d
pm = static
pm.max_children = 2
catch_workers_output = yes
`

// phpNginxServer is the nginx server in front of php-fpm: %[1]s the
// directory, %[2]d nginx's port, %[3]d php-fpm's, %[4]s fastcgi_params.
const phpNginxServer = `  server {
    listen 127.0.0.1:%[2]d;
    root %[1]s/www;
    # Every path goes to the front controller (the usual PHP app layout).
    location / {
      include %[4]s;
      fastcgi_param SCRIPT_FILENAME $document_root/index.php;
      fastcgi_param SCRIPT_NAME /index.php;
      fastcgi_param PATH_INFO $uri;
      fastcgi_pass 127.0.0.1:%[3]d;
    }
  }`

// PHPFPM starts a private php-fpm pool and a private nginx in front of it
// (Debian php-fpm, nginx) on free loopback ports, with a front controller
// that echoes REQUEST_URI's path (decoded once), PATH_INFO (nginx's
// normalised $uri) and SCRIPT_NAME. It returns nginx's base URL. Both are
// stopped when t ends.
func PHPFPM(t testing.TB) string {
	t.Helper()
	hint := "apt-get install php-fpm nginx (scripts/services.sh)"
	fpm := ""
	if m, _ := filepath.Glob("/usr/sbin/php-fpm*"); len(m) > 0 {
		fpm = m[len(m)-1]
	}
	if p, err := exec.LookPath("php-fpm"); err == nil {
		fpm = p
	}
	if fpm == "" {
		Unavailable(t, "php-fpm", os.ErrNotExist, hint)
		return ""
	}
	LookPath(t, []string{"/usr/sbin/nginx"}, "nginx") // before anything starts
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "index.php"), []byte(frontController), 0o644); err != nil {
		t.Fatal(err)
	}
	fpmPort, ngxPort := FreePort(t), FreePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user = root\ngroup = root"
	}
	if err := os.WriteFile(filepath.Join(dir, "fpm.conf"), []byte(fmt.Sprintf(fpmConf, dir, fpmPort, user)), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", "-F", "-y", filepath.Join(dir, "fpm.conf"), "-p", dir}
	if os.Geteuid() == 0 {
		args = append(args, "-R")
	}
	Start(t, "php-fpm", exec.Command(fpm, args...), filepath.Join(dir, "fpm.out"), "tcp://"+fmt.Sprintf("127.0.0.1:%d", fpmPort), 30*time.Second)
	url := fmt.Sprintf("http://127.0.0.1:%d", ngxPort)
	StartNginx(t, dir, fmt.Sprintf(phpNginxServer, dir, ngxPort, fpmPort, "/etc/nginx/fastcgi_params"), url+"/ready")
	return url
}
