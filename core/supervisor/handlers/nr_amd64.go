package handlers

import "golang.org/x/sys/unix"

func isForkNr(nr int) bool {
	return nr == unix.SYS_CLONE || nr == unix.SYS_FORK || nr == unix.SYS_VFORK || nr == unix.SYS_CLONE3
}
