package migrate

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	if err := (QueueConfig{}).Validate(); err != nil {
		t.Errorf("zero QueueConfig: %v", err)
	}
	cases := []struct {
		name string
		err  error
		keys []string
	}{
		{"batch", Config{BatchSize: -1}.Validate(), []string{"batch_size:"}},
		{"batch too big", Config{BatchSize: MaxBatchSize + 1}.Validate(), []string{"batch_size:"}},
		{"all", Config{Workers: -2, MaxAccountsPerSecond: -1, SwapStreams: 99}.Validate(), []string{"workers:", "swap_streams:", "max_accounts_per_second:"}},
		{"queue", QueueConfig{Prefix: "a b", ClaimAfter: time.Millisecond, Block: time.Hour}.Validate(), []string{"prefix:", "claim_after:", "block:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(c.err.Error(), "\n")
			if len(lines) != len(c.keys) {
				t.Fatalf("got %d problems, want %d: %v", len(lines), len(c.keys), c.err)
			}
			for i, k := range c.keys {
				if !strings.HasPrefix(lines[i], k) {
					t.Errorf("problem %q does not start with %q", lines[i], k)
				}
			}
		})
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without store, state and hasher succeeded")
	}
	for _, id := range []string{"", "ab", "Apply-1", "apply 1", "apply/1", strings.Repeat("a", 64)} {
		if ValidRunID(id) {
			t.Errorf("run id %q accepted", id)
		}
	}
	if !ValidRunID(NewRunID(KindApply, time.Now())) {
		t.Error("generated run id rejected")
	}
}
