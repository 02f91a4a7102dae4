package handlers

import "golang.org/x/sys/unix"

// sysFork is fork(2), which only some architectures have.
const sysFork = unix.SYS_FORK
