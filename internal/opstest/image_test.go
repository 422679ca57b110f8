package opstest

import (
	"archive/tar"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/overstap/overstap/internal/testsvc"
)

// maxImageBytes bounds the image: the stripped static binary and a CA
// bundle, nothing else.
const maxImageBytes = 60 << 20

// TestContainerImage builds the image with `make image` (podman) and checks
// it from the outside: user, entrypoint, exposed ports, health check, size;
// then, from the layers of `podman save`, that it holds no shell and only
// the expected files, and that the binary inside is static and prints the
// stamped version. Where this machine lets containers run it also runs
// `overstap version` inside; where it does not (a sandbox refusing
// setrlimit, no user namespaces) the test says so and the layer checks
// stand.
func TestContainerImage(t *testing.T) {
	if testing.Short() && !testsvc.InCI() {
		t.Skip("-short: skips building a container image (never skipped with CI=true)")
	}
	podman := testsvc.LookPath(t, []string{"/usr/bin/podman", "/usr/local/bin/podman"}, "podman")
	image := "localhost/" + testsvc.Name("overstap-test") + ":v0.0.0-test"
	root, _ := filepath.Abs("../..")
	mk := exec.Command("make", "-C", root, "image", "IMAGE="+image, "VERSION=v0.0.0-test", "COMMIT=0000test")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(podman, "rmi", "-f", image).Run() })

	out, err := exec.Command(podman, "image", "inspect", image).Output()
	if err != nil {
		t.Fatal(err)
	}
	var info []struct {
		Size   int64
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]any
			WorkingDir   string
		}
		HealthCheck struct{ Test []string }
	}
	if err := json.Unmarshal(out, &info); err != nil || len(info) != 1 {
		t.Fatalf("inspect: %v %s", err, out)
	}
	c := info[0].Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (not root)", c.User)
	}
	if strings.Join(c.Entrypoint, " ") != "/usr/local/bin/overstap" || strings.Join(c.Cmd, " ") != "serve --config /etc/overstap/gateway.yaml" {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if len(c.ExposedPorts) != 2 || c.ExposedPorts["8080/tcp"] == nil || c.ExposedPorts["9090/tcp"] == nil {
		t.Errorf("exposed ports %v, want 8080/tcp and 9090/tcp", c.ExposedPorts)
	}
	if hc := strings.Join(info[0].HealthCheck.Test, " "); hc != "CMD /usr/local/bin/overstap healthcheck --addr 127.0.0.1:9090" {
		t.Errorf("healthcheck %q", hc)
	}
	if info[0].Size <= 0 || info[0].Size > maxImageBytes {
		t.Errorf("image size %d bytes, want at most %d", info[0].Size, maxImageBytes)
	}
	t.Logf("image size %.1f MB", float64(info[0].Size)/(1<<20))

	// The layers, as files.
	archive := filepath.Join(t.TempDir(), "image.tar")
	if out, err := exec.Command(podman, "save", "--format", "docker-archive", "-o", archive, image).CombinedOutput(); err != nil {
		t.Fatalf("podman save: %v\n%s", err, out)
	}
	files, bin := layerFiles(t, archive)
	want := map[string]bool{"etc/passwd": true, "etc/group": true, "etc/ssl/certs/ca-certificates.crt": true, "usr/local/bin/overstap": true}
	for name := range files {
		base := path.Base(name)
		if base == "sh" || base == "bash" || base == "busybox" || base == "ash" || base == "dash" {
			t.Errorf("image holds a shell: %s", name)
		}
		if !want[name] && !strings.HasPrefix(name, "var/lib/overstap") {
			t.Errorf("unexpected file in the image: %s", name)
		}
	}
	for name := range want {
		if !files[name] {
			t.Errorf("image lacks %s", name)
		}
	}
	if pw := string(files2(t, archive, "etc/passwd")); !strings.Contains(pw, "overstap:x:65532:65532:") || !strings.Contains(pw, "/sbin/nologin") {
		t.Errorf("/etc/passwd: %q", pw)
	}
	// The binary is static (no ELF interpreter) and stamped.
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: not static")
		}
	}
	f.Close()
	vout, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(vout), "overstap v0.0.0-test\ncommit: 0000test\nbuilt: ") {
		t.Errorf("binary from the image: %q %v", vout, err)
	}

	// Inside a container, where this machine allows it.
	// Exit status 125-127 is podman or the OCI runtime failing to start
	// the container (here: crun refused setrlimit, conmon had no working
	// directory), never the binary, which exits 0 or 1.
	rout, err := exec.Command(podman, "run", "--rm", "--read-only", "--network=none", "--no-healthcheck", image, "version").CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		if !strings.HasPrefix(string(rout), "overstap v0.0.0-test\n") {
			t.Errorf("podman run version: %q", rout)
		}
	case errors.As(err, &ee) && ee.ExitCode() >= 125 && ee.ExitCode() <= 127:
		t.Logf("this machine does not let containers run (%s); the image was checked from its layers instead",
			strings.TrimSpace(lastLine(string(rout))))
	default:
		t.Errorf("podman run: %v\n%s", err, rout)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// layerFiles lists the regular files and symlinks of every layer of a
// docker-archive and extracts usr/local/bin/overstap to a temporary file.
func layerFiles(t *testing.T, archive string) (map[string]bool, string) {
	t.Helper()
	files := map[string]bool{}
	bin := filepath.Join(t.TempDir(), "overstap")
	eachLayerFile(t, archive, func(name string, h *tar.Header, r io.Reader) {
		if h.Typeflag == tar.TypeDir {
			return
		}
		files[name] = true
		if name == "usr/local/bin/overstap" {
			f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, r); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	})
	return files, bin
}

// files2 returns the content of one file of the image.
func files2(t *testing.T, archive, want string) []byte {
	var out []byte
	eachLayerFile(t, archive, func(name string, _ *tar.Header, r io.Reader) {
		if name == want {
			out, _ = io.ReadAll(r)
		}
	})
	return out
}

// eachLayerFile calls fn for every entry of every layer tar inside the
// docker-archive at archive.
func eachLayerFile(t *testing.T, archive string, fn func(name string, h *tar.Header, r io.Reader)) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outer := tar.NewReader(f)
	for {
		h, err := outer.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, ".tar") {
			continue
		}
		inner := tar.NewReader(outer)
		for {
			ih, err := inner.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", h.Name, err)
			}
			fn(strings.TrimPrefix(path.Clean("/"+ih.Name), "/"), ih, inner)
		}
	}
}
