//go:build unix

package peer

import (
	"os/exec"
	"syscall"
)

// OwnProcessGroup makes cmd start in a process group of its own, so that
// killing the group also ends the children a peer forks (vsftpd's sessions).
func OwnProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// KillProcessGroup kills cmd's process group.
func KillProcessGroup(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
