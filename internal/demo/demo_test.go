package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	if err := Run(ctx, &out); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Logf("the demo took %v", time.Since(start))
	text := out.String()
	for i, s := range Steps {
		if !strings.Contains(text, fmt.Sprintf("== %d. %s\n", i+1, s.Name)) {
			t.Errorf("the report lacks step %d (%s)", i+1, s.Name)
		}
	}
	if got := strings.Count(text, "\n   ok\n"); got != len(Steps) {
		t.Errorf("%d steps reported ok, want %d", got, len(Steps))
	}
	for _, want := range []string{
		"rejected: giotls: unacceptable TLS certificate (unknown-ca|bad-identity|expired)",
		"accept-certificate asked with expired (0x08)",
		"CN=giotls demo partners CA",
		"the Interaction chose \"CN=alice (partner)\"",
		"connection 4: resumed=true ",
		"connection 5: resumed=false",
		"with CopySessionState(control): resumed=true",
		"TLS connection closed unexpectedly",
		"every step behaved as giotls promises",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
}

// TestRunNamesFailingStep checks that a step that misbehaves makes Run fail
// naming it: here the context is already cancelled, so the first step fails.
func TestRunNamesFailingStep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := Run(ctx, &out)
	if err == nil || !strings.Contains(err.Error(), "step 1 (verified handshake)") {
		t.Fatalf("Run with a cancelled context = %v; want an error naming step 1", err)
	}
}
