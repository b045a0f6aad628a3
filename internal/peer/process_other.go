//go:build !unix

package peer

import "os/exec"

// OwnProcessGroup does nothing where there are no Unix process groups; the
// peers run on Unix, this only lets the tests compile elsewhere.
func OwnProcessGroup(cmd *exec.Cmd) {}

// KillProcessGroup kills the process itself.
func KillProcessGroup(cmd *exec.Cmd) { cmd.Process.Kill() }
